// Package docscheck holds no code: its tests check the project's Markdown
// documentation against the tree and the code, so that `make unit` and
// `make test` fail when a page points nowhere or the configuration
// reference drifts from the built-in defaults.
//
//   - TestLinks: every relative link in every *.md file leads to a file or
//     directory that exists, and every #anchor to a heading of the target
//     page (GitHub's heading IDs).
//   - TestConfigReference: the table in docs/admin-guide.md lists every
//     configuration key once, with the built-in default that
//     `config explain` prints and the override column as the schema has it.
package docscheck
