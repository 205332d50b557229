package mailin

import (
	"strings"

	"golang.org/x/net/html"
)

// HTMLToText turns an HTML body into readable text: block elements become
// line breaks, list items get "- ", links keep their address, quoted blocks
// get "> ", and scripts, styles and the head are dropped.
func HTMLToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip, quote := 0, 0
	var href string
	newline := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
		if quote > 0 {
			b.WriteString(strings.Repeat("> ", quote))
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidy(b.String())
		case html.TextToken:
			if skip == 0 {
				text := strings.Join(strings.Fields(string(z.Text())), " ")
				if text != "" {
					if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") && !strings.HasSuffix(b.String(), " ") {
						b.WriteString(" ")
					}
					b.WriteString(text)
				}
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			start := tt != html.EndTagToken
			switch tag {
			case "script", "style", "head", "title":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case "br", "p", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr":
				newline()
			case "li":
				if start {
					newline()
					b.WriteString("- ")
				}
			case "td", "th":
				if start {
					b.WriteString(" ")
				}
			case "blockquote":
				if start {
					quote++
				} else if quote > 0 {
					quote--
				}
				newline()
			case "a":
				if start && hasAttr {
					href = ""
					for {
						k, v, more := z.TagAttr()
						if string(k) == "href" {
							href = string(v)
						}
						if !more {
							break
						}
					}
				} else if !start && href != "" && !strings.HasPrefix(href, "mailto:") && !strings.Contains(b.String()[max(0, b.Len()-len(href)-2):], href) {
					b.WriteString(" (" + href + ")")
					href = ""
				}
			}
		}
	}
}

// tidy trims each line and collapses runs of blank lines.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || l == ">" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
