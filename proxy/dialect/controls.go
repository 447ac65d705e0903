package dialect

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/catalog"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
)

// Effort is what a client asked for about reasoning, before the model's
// capabilities are applied.
type Effort struct {
	// Effort is the requested effort ("" for none requested); Param names
	// it in errors (reasoning_effort, reasoning.effort, thinking…).
	Effort, Param string
	// Summary is the requested reasoning summary ("" for the default);
	// SummaryParam names it in errors (reasoning.summary when empty).
	Summary, SummaryParam string
}

// Summaries are the reasoning summaries a client may ask for: the
// Responses API's, and none (no summary).
var Summaries = []string{"auto", "concise", "detailed", "none"}

// Verbosities are the values of text.verbosity.
var Verbosities = []string{"low", "medium", "high"}

// Reasoning applies the model's capabilities and the app's defaults to the
// requested effort and summary, and sets req.Reasoning and req.Include.
// It returns the effort that replaced an unsupported one ("" when none did).
func Reasoning(req *codex.Request, res catalog.Resolution, want Effort, opts Options) (clamped string, err error) {
	effort := opts.DefaultEffort
	if res.Effort != "" {
		effort = res.Effort
	}
	if want.Effort != "" {
		effort = want.Effort
	}
	param := want.Param
	if param == "" {
		param = "reasoning_effort"
	}
	effort = strings.ToLower(effort)
	if effort != "" {
		if !catalog.IsEffort(effort) {
			return "", apierr.InvalidRequest(param, "Unsupported value: '%s' is not a reasoning effort. Supported values are: %s.", effort, QuoteList(catalog.Efforts)).WithCode("unsupported_value")
		}
		if res.Known && !res.Model.SupportsEffort(effort) {
			if opts.RejectEffort {
				return "", apierr.InvalidRequest(param, "Unsupported value: '%s' is not supported with the '%s' model. Supported values are: %s.", effort, res.Slug, QuoteList(res.Model.ReasoningLevels)).WithCode("unsupported_value")
			}
			effort = NearestEffort(effort, res.Model.ReasoningLevels)
			clamped = effort
		}
	}
	if effort == "" && res.Known && res.Model.DefaultReasoningLevel != "" {
		// The Codex CLI always names an effort: the model's default.
		effort = res.Model.DefaultReasoningLevel
	}
	summary := opts.ReasoningSummary
	if want.Summary != "" {
		if !slices.Contains(Summaries, want.Summary) {
			param := want.SummaryParam
			if param == "" {
				param = "reasoning.summary"
			}
			return "", apierr.InvalidRequest(param, "Invalid value: '%s'. Supported values are: %s.", want.Summary, QuoteList(Summaries)).WithCode("invalid_value")
		}
		summary = want.Summary
	}
	if res.Known && !res.Model.SupportsReasoningSummaries {
		summary = "none"
	}
	if summary == "none" || effort == "none" {
		summary = ""
	}
	if effort != "" || summary != "" {
		req.Reasoning = &codex.Reasoning{Effort: effort, Summary: summary}
		req.Include = []string{codex.IncludeEncryptedReasoning}
	}
	return clamped, nil
}

// Verbosity sets text.verbosity when the model takes it: the client's
// value (named param in errors), else the app's default. A value the
// backend does not know is refused here, under the client's name for it,
// not sent for the backend to refuse.
func Verbosity(req *codex.Request, res catalog.Resolution, want, param string, opts Options) error {
	v := opts.Verbosity
	if want != "" {
		want = strings.ToLower(want) // as efforts are read
		if !slices.Contains(Verbosities, want) {
			return apierr.InvalidRequest(param, "Invalid value: '%s'. Supported values are: %s.", want, QuoteList(Verbosities)).WithCode("invalid_value")
		}
		v = want
	}
	if v == "" || (res.Known && !res.Model.SupportVerbosity) {
		return nil
	}
	if req.Text == nil {
		req.Text = &codex.Text{}
	}
	req.Text.Verbosity = v
	return nil
}

// ServiceTier checks and sets the service tier: only tiers the catalog
// allows for the model. Without one in the request, the tier of a -fast
// model suffix applies.
func ServiceTier(req *codex.Request, res catalog.Resolution, tier string) error {
	if tier == "" {
		tier = res.ServiceTier
	}
	switch tier {
	case "", "auto", "default":
	case "priority", "flex":
		if res.Known && !res.Model.HasServiceTier(tier) {
			return apierr.InvalidRequest("service_tier", "service_tier %q is not available for %s", tier, res.Slug).WithCode("unsupported_value")
		}
		req.ServiceTier = tier
	default:
		return apierr.InvalidRequest("service_tier", "unknown service_tier %q", tier).WithCode("invalid_value")
	}
	return nil
}

// ParallelToolCalls sets parallel_tool_calls when there are tools: the
// client's choice, else what the model supports.
func ParallelToolCalls(req *codex.Request, res catalog.Resolution, want *bool) {
	if len(req.Tools) == 0 {
		return
	}
	par := !res.Known || res.Model.SupportsParallelToolCalls
	if want != nil {
		par = *want
	}
	req.ParallelToolCalls = &par
}

// DecimalRange answers a number outside lo..hi as OpenAI does ("Invalid
// 'temperature': decimal above maximum value. Expected a value <= 2, but
// got 5 instead.", code decimal_above_max_value, or below it
// decimal_below_min_value). The sampling parameters are dropped (the
// backend refuses them), but a value OpenAI would refuse is refused here
// too. A parameter not sent (nil) is in range.
func DecimalRange(param string, v *float64, lo, hi float64) error {
	switch {
	case v == nil:
		return nil
	case *v > hi:
		return apierr.InvalidRequest(param, "Invalid '%s': decimal above maximum value. Expected a value <= %s, but got %s instead.", param, number(hi), number(*v)).WithCode("decimal_above_max_value")
	case *v < lo:
		return apierr.InvalidRequest(param, "Invalid '%s': decimal below minimum value. Expected a value >= %s, but got %s instead.", param, number(lo), number(*v)).WithCode("decimal_below_min_value")
	}
	return nil
}

// IntegerMin answers an integer below lo as OpenAI does ("Invalid
// 'max_tokens': integer below minimum value. Expected a value >= 1, but
// got -1 instead.", code integer_below_min_value). A parameter not sent
// (nil) is in range.
func IntegerMin[N int64 | float64](param string, v *N, lo N) error {
	if v == nil || *v >= lo {
		return nil
	}
	return apierr.InvalidRequest(param, "Invalid '%s': integer below minimum value. Expected a value >= %s, but got %s instead.", param, number(float64(lo)), number(float64(*v))).WithCode("integer_below_min_value")
}

// number writes a number as a client wrote it, near enough: in decimals
// (5, -0.5, 1000000), in exponent form only past 10²¹.
func number(f float64) string {
	if math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
