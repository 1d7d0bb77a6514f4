// Package output turns command results into what people and machines read:
// lipgloss tables on a terminal, plain aligned columns in a pipe, and JSON
// or YAML with the same content. It also owns the streams, the TTY and
// colour decision, status lines and progress. It is the only kauth package
// that imports lipgloss; core packages return values and never print.
package output
