import type UPlot from 'uplot';

// uPlot is loaded as its browser build (`/assets/uPlot.iife.min.js`, a classic script before the page's module),
// which defines the global `uPlot`; its package's declarations describe the module, so the global is declared here.
declare global {
  const uPlot: typeof UPlot;
}
