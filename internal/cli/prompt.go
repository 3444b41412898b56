package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// prompter asks questions on a terminal: the question and its default go to out, the answer
// is one line of in; an empty line accepts the default.
type prompter struct {
	in  *bufio.Reader
	out io.Writer
}

func newPrompter(in io.Reader, out io.Writer) *prompter {
	return &prompter{in: bufio.NewReader(in), out: out}
}

// line asks a question and returns the answer, or def for an empty answer.
func (p *prompter) line(question, def string) (string, error) {
	if def != "" {
		fmt.Fprintf(p.out, "%s [%s]: ", question, def)
	} else {
		fmt.Fprintf(p.out, "%s: ", question)
	}
	s, err := p.in.ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || s == "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("input ended before every question was answered")
		}
		return "", fmt.Errorf("read answer: %w", err)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	return s, nil
}

// choice asks until the answer is one of options (case-insensitive), returned as spelled in
// options.
func (p *prompter) choice(question, def string, options []string) (string, error) {
	for {
		s, err := p.line(fmt.Sprintf("%s (%s)", question, strings.Join(options, "|")), def)
		if err != nil {
			return "", err
		}
		if i := slices.IndexFunc(options, func(o string) bool { return strings.EqualFold(o, s) }); i >= 0 {
			return options[i], nil
		}
		fmt.Fprintf(p.out, "  %q is not one of %s\n", s, strings.Join(options, ", "))
	}
}

// list asks for a comma-separated list; "-" clears it.
func (p *prompter) list(question string, def []string) ([]string, error) {
	s, err := p.line(question+" (comma-separated, - for none)", strings.Join(def, ","))
	if err != nil {
		return nil, err
	}
	return splitList(s), nil
}

// seconds asks for a number of seconds; 0 or "-" means unset.
func (p *prompter) seconds(question string, def int32) (int32, error) {
	d := ""
	if def != 0 {
		d = strconv.Itoa(int(def))
	}
	for {
		s, err := p.line(question+" (seconds, - for the default)", d)
		if err != nil {
			return 0, err
		}
		if s == "" || s == "-" {
			return 0, nil
		}
		n, err := strconv.ParseInt(s, 10, 32)
		if err == nil && n >= 0 {
			return int32(n), nil
		}
		fmt.Fprintf(p.out, "  %q is not a number of seconds\n", s)
	}
}

// splitList splits a comma-separated list, dropping blanks; "-" is the empty list.
func splitList(s string) []string {
	if strings.TrimSpace(s) == "-" {
		return nil
	}
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
