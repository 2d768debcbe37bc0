// Typeset every formula with the self-hosted KaTeX. Material's `document$`
// observable fires on the first load and after every instant navigation.
// KaTeX writes each formula twice: as HTML for the eye (aria-hidden) and as MathML for
// screen readers (`output: "htmlAndMathml"`, its default, kept on purpose).
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
    output: "htmlAndMathml",
    throwOnError: false,
    errorColor: "#cc0000",
  });
  // A link whose whole text is a formula has no accessible name for tools that do not
  // read MathML: name it by the formula's TeX source, as a title (an aria-label would
  // hide the MathML from screen readers, and differ from the visible text).
  for (const link of body.querySelectorAll("a:not([aria-label]):not([title])")) {
    if (!link.querySelector(".katex")) continue;
    const clone = link.cloneNode(true);
    clone.querySelectorAll(".katex").forEach((k) => k.remove());
    if (clone.textContent.trim()) continue;
    const tex = [...link.querySelectorAll('.katex annotation[encoding="application/x-tex"]')]
      .map((a) => a.textContent.trim())
      .join(" ");
    if (tex) link.setAttribute("title", tex);
  }
});
