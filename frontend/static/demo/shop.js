// What a shop's own page does before the widget's script tag: say who is signed in.
// The demo page's server put it in the JSON block; a shop's own CSP may forbid
// inline script, so this is a file, and it runs before the async widget tag is parsed.
window.HelpdeskWidget = JSON.parse(document.getElementById("helpdesk-widget-config").textContent);
