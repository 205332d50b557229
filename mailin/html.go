package mailin

import (
	"strings"

	"golang.org/x/net/html"
)

// MaxQuoteDepth is the deepest quote marked "> > …": deeper blockquotes
// are marked as this deep, so that the text stays linear in the HTML.
const MaxQuoteDepth = 8

// quotePrefix[d] is the mark of a line at quote depth d.
var quotePrefix = func() (p [MaxQuoteDepth + 1]string) {
	for d := range p {
		p[d] = strings.Repeat("> ", d)
	}
	return p
}()

// HTMLToText turns an HTML body into readable text: block elements become
// line breaks, list items get "- ", links keep their address, quoted blocks
// get "> " (at most MaxQuoteDepth of them), and scripts, styles and the
// head are dropped. Its work and its output are linear in the input, and
// the text is cut at MaxTextBytes.
func HTMLToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip, quote := 0, 0
	var href string
	newline := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
		b.WriteString(quotePrefix[min(quote, MaxQuoteDepth)])
	}
	for {
		if b.Len() > MaxTextBytes {
			return tidy(truncateText(b.String(), MaxTextBytes))
		}
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
		if strings.Trim(l, "> ") == "" { // an empty line, or one of quote marks only
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
