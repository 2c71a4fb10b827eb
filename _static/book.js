/* Book-wide page furniture (every page):
   - an "expand all evidence" control in the header of every page with collapsed evidence
     (sphinx-design dropdowns): opens or closes them all at once;
   - search result snippets without raw TeX: Sphinx builds a snippet from the page's text,
     where maths is still TeX source; here each maths node's TeX becomes readable text
     (\sigma_2 -> σ_2, \lVert x \rVert -> ‖x‖) before the snippet is cut. */
(function () {
  "use strict";

  function expandControl() {
    var drops = document.querySelectorAll("main details.sd-dropdown");
    var bar = document.querySelector(".article-header-buttons");
    if (!drops.length || !bar || document.querySelector(".btn-expand-evidence")) { return; }
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-sm btn-expand-evidence";
    function label() {
      var open = Array.prototype.every.call(drops, function (d) { return d.open; });
      b.innerHTML = '<span class="btn__icon-container"><i class="fa-solid ' +
        (open ? "fa-angles-up" : "fa-angles-down") + '"></i></span><span class="btn__text-container">' +
        (open ? "collapse evidence" : "expand all evidence") + "</span>";
      b.title = (open ? "Collapse" : "Expand") + " all " + drops.length + " evidence blocks of this page";
      b.setAttribute("aria-pressed", open ? "true" : "false");
      return open;
    }
    b.addEventListener("click", function () {
      var open = !label();
      drops.forEach(function (d) { d.open = open; });
      label();
    });
    drops.forEach(function (d) { d.addEventListener("toggle", label); });
    label();
    bar.insertBefore(b, bar.firstChild);
  }

  var TEX = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", zeta: "ζ", eta: "η",
    theta: "θ", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν", xi: "ξ", pi: "π", rho: "ρ", sigma: "σ",
    tau: "τ", phi: "φ", varphi: "φ", chi: "χ", psi: "ψ", omega: "ω", Gamma: "Γ", Delta: "Δ", Theta: "Θ",
    Lambda: "Λ", Sigma: "Σ", Phi: "Φ", Omega: "Ω", lVert: "‖", rVert: "‖", Vert: "‖", "|": "‖", lvert: "|",
    rvert: "|", le: "≤", leq: "≤", ge: "≥", geq: "≥", ne: "≠", neq: "≠", approx: "≈", sim: "~", to: "→",
    infty: "∞", perp: "⊥", cdot: "·", times: "×", circ: "∘", in: "∈", sqrt: "√", ln: "ln", log: "log",
    exp: "exp", langle: "⟨", rangle: "⟩", mid: "|", top: "ᵀ", ll: "≪", gg: "≫", pm: "±", quad: " ",
    qquad: " ", partial: "∂", nabla: "∇", sum: "Σ", prod: "Π", dots: "…", ldots: "…", cdots: "⋯",
    mathbb: "", mathcal: "", mathrm: "", operatorname: "", text: "", mathbf: "", boldsymbol: "",
    left: "", right: "", bigl: "", bigr: "", Bigl: "", Bigr: "", big: "", Big: "", displaystyle: "",
    frac: "", tfrac: "", dfrac: "", hat: "", tilde: "", bar: "", overline: "",
  };

  function texToText(tex) {
    return tex
      .replace(/^\s*(\\\(|\\\[|\$\$?)|(\\\)|\\\]|\$\$?)\s*$/g, "")
      .replace(/\\([A-Za-z]+|\|)/g, function (m, name) { return name in TEX ? TEX[name] : name; })
      .replace(/\\[,;:! ]/g, " ")
      .replace(/[{}]/g, "")
      .replace(/\s+/g, " ")
      .trim();
  }
  window.dsmTexToText = texToText;  // for the browser test

  function patchSearch() {
    /* global Search */
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.dsmPatched) { return; }
    var orig = Search.htmlToText;
    var patched = function (htmlString, anchor) {
      var doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math, span.math, div.math").forEach(function (el) {
        el.textContent = " " + texToText(el.textContent) + " ";
      });
      return orig(doc.documentElement.outerHTML, anchor);
    };
    patched.dsmPatched = true;
    Search.htmlToText = patched;
  }

  patchSearch();
  function ready() { expandControl(); patchSearch(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
})();
