package anthropic

import (
	"bytes"
	"encoding/base64"
	"image"
	_ "image/gif" // image sizes for count_tokens
	_ "image/jpeg"
	_ "image/png"
	"math"
	"strings"
	"sync"

	"github.com/tiktoken-go/tokenizer/codec"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
)

// o200k is the tokenizer of the backend's models (o200k_base), embedded in
// the binary: nothing is downloaded at run time.
var o200k = sync.OnceValue(codec.NewO200kBase)

// Overheads of the chat format the backend wraps around the content.
const (
	perRequest = 3   // the priming of the answer
	perItem    = 4   // role and separators of one input item
	perTool    = 8   // the wrapper of one tool definition
	imageFlat  = 765 // an image whose size is unknown: a 1024×1024 at high detail
	pdfPerPage = 1000
)

// CountTokens counts the input tokens of a translated request: the
// instructions, every input item as it is sent, the tool definitions and
// the images (by their size, at high detail).
func CountTokens(r *codex.Request) int64 {
	n := int64(perRequest) + count(r.Instructions)
	for i := range r.Input {
		n += countItem(&r.Input[i])
	}
	for _, t := range r.Tools {
		n += perTool + count(t.Name) + count(t.Description) + count(string(t.Parameters))
	}
	return n
}

func count(s string) int64 {
	if s == "" {
		return 0
	}
	n, err := o200k().Count(s)
	if err != nil {
		return int64(len(s) / 4)
	}
	return int64(n)
}

func countItem(it *codex.Item) int64 {
	n := int64(perItem)
	switch it.Type {
	case codex.ItemMessage:
		n += count(it.Role)
		for _, c := range it.Content {
			n += countPart(c)
		}
	case codex.ItemFunctionCall:
		n += count(it.Name) + count(it.Arguments)
	case codex.ItemFunctionCallOutput:
		n += count(it.Output.Text)
		for _, c := range it.Output.Parts {
			n += countPart(c)
		}
	case codex.ItemReasoning:
		for _, c := range it.Summary {
			n += count(c.Text)
		}
	}
	return n
}

func countPart(c codex.Content) int64 {
	switch c.Type {
	case codex.PartInputImage:
		return imageTokens(c.ImageURL)
	case codex.PartInputFile:
		return fileTokens(c.FileData)
	case codex.PartRefusal:
		return count(c.Refusal)
	}
	return count(c.Text)
}

// imageTokens is what an image costs at high detail: 85 plus 170 per
// 512-pixel tile after scaling it into 2048×2048 and its short side to 768.
func imageTokens(u string) int64 {
	_, data, ok := strings.Cut(u, ";base64,")
	if !strings.HasPrefix(u, "data:") || !ok {
		return imageFlat
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return imageFlat
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return imageFlat
	}
	w, h := float64(cfg.Width), float64(cfg.Height)
	if m := max(w, h); m > 2048 {
		w, h = w*2048/m, h*2048/m
	}
	if s := min(w, h); s > 768 {
		w, h = w*768/s, h*768/s
	}
	tiles := int64(math.Ceil(w/512) * math.Ceil(h/512))
	return 85 + 170*tiles
}

// fileTokens estimates a PDF: a fixed amount per page.
func fileTokens(dataURL string) int64 {
	_, data, ok := strings.Cut(dataURL, ";base64,")
	if !ok {
		return pdfPerPage
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return pdfPerPage
	}
	pages := int64(bytes.Count(raw, []byte("/Type /Page"))) - int64(bytes.Count(raw, []byte("/Type /Pages")))
	pages += int64(bytes.Count(raw, []byte("/Type/Page"))) - int64(bytes.Count(raw, []byte("/Type/Pages")))
	return max(pages, 1) * pdfPerPage
}
