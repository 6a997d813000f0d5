// A stand-in for a statistics service on the demo school page: it runs only when the visitor has
// allowed statistics cookies, and says so on the page.
window.__statsRan = true;
document.dispatchEvent(new CustomEvent('demo:stats-ran'));
