// The entry of the CodeMirror bundle that docs/assets/javascripts/run-ui.js imports
// (docs/assets/vendor/codemirror/codemirror.min.js, built by `make vendor`). It only
// re-exports the pieces the Run blocks use; how they are put together stays readable in
// run-ui.js, so changing the editor's setup needs no rebuild.
export { EditorView, minimalSetup } from "codemirror";
export { keymap, lineNumbers, highlightActiveLineGutter } from "@codemirror/view";
export { EditorState, Compartment, Prec } from "@codemirror/state";
export { indentOnInput, indentUnit, bracketMatching, syntaxHighlighting } from "@codemirror/language";
export { indentWithTab } from "@codemirror/commands";
export { classHighlighter } from "@lezer/highlight";
export { python } from "@codemirror/lang-python";
