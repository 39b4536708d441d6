/* Hongyan (鸿雁) — the little JavaScript the pages use. No inline scripts anywhere:
   a strict Content-Security-Policy is coming, so behaviour lives here.
   Alpine is the CSP build: components are registered by name with Alpine.data and the
   templates refer to them (x-data="checklist"). Everything here is an enhancement;
   each page works with plain links and forms. */

document.addEventListener("alpine:init", () => {
  /* A long list of checkboxes (e.g. the compounds a grid branch covers): a filter box
     hides the ones whose label does not contain the text, and a line counts the ticks. */
  window.Alpine.data("checklist", () => ({
    checked: 0,
    shown: 0,
    init() {
      this.count();
    },
    items() {
      return Array.from(this.$root.querySelectorAll("[data-check-label]"));
    },
    filter(event) {
      const query = ((event || this.$event).target.value || "").trim().toLowerCase();
      this.items().forEach((item) => {
        const label = item.dataset.checkLabel.toLowerCase();
        item.hidden = query !== "" && !label.includes(query);
      });
      this.count();
    },
    count() {
      const items = this.items();
      this.checked = items.filter((i) => i.querySelector("input:checked")).length;
      this.shown = items.filter((i) => !i.hidden).length;
    },
    summary() {
      const template = this.$root.dataset.summary || "{checked} / {shown}";
      return template.replace("{checked}", this.checked).replace("{shown}", this.shown);
    },
  }));
});

/* Keep focus in the tree search box after htmx swaps the rows under it, and move the
   page back to the top of the results on a new search. */
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (target && target.id === "unit-rows") {
    target.setAttribute("aria-busy", "false");
  }
});
document.addEventListener("htmx:beforeRequest", (event) => {
  const target = document.getElementById("unit-rows");
  if (target && event.detail.elt && event.detail.elt.closest("[data-live-search]")) {
    target.setAttribute("aria-busy", "true");
  }
});
