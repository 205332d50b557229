package mailout

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// Chart colours: met target, below it, no closures that day.
var (
	chartGood = color.RGBA{0x2e, 0x7d, 0x32, 0xff}
	chartBad  = color.RGBA{0xc6, 0x28, 0x28, 0xff}
	chartNone = color.RGBA{0xcf, 0xd8, 0xdc, 0xff}
	chartLine = color.RGBA{0x60, 0x60, 0x60, 0xff}
)

// ChartTarget is the compliance share drawn green; below it, red.
const ChartTarget = 90

// complianceChart draws daily SLA compliance as bars, one per day, oldest
// first: the height is the percentage met (-1: no closures, a short grey
// bar), green at or above ChartTarget, red below; a line marks the target.
// A PNG of 20 px per day by 100 px, made in Go so no chart service ever
// sees the desk's figures.
func complianceChart(percents []int) []byte {
	const barW, gap, h = 16, 4, 100
	w := len(percents)*(barW+gap) + gap
	img := image.NewRGBA(image.Rect(0, 0, w, h+1))
	for i := range img.Pix {
		img.Pix[i] = 0xff // white
	}
	for i, p := range percents {
		c, top := chartNone, h-4
		if p >= 0 {
			c, top = chartBad, h-p
			if p >= ChartTarget {
				c = chartGood
			}
		}
		x0 := gap + i*(barW+gap)
		for y := top; y <= h; y++ {
			for x := x0; x < x0+barW; x++ {
				img.Set(x, y, c)
			}
		}
	}
	for x := 0; x < w; x += 2 {
		img.Set(x, h-ChartTarget, chartLine)
	}
	var buf bytes.Buffer
	png.Encode(&buf, img) // writing to memory cannot fail
	return buf.Bytes()
}
