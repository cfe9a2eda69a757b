// Inside the frame that shows one email with its remote images (see email.js): takes the mail
// from the console that embeds it, and reports its height so the console can size the frame.
// The mail was sanitised by the hub; this frame's policy runs no script but this one anyway.

function reportHeight() {
  window.parent.postMessage({ emailFrameHeight: document.documentElement.scrollHeight }, '*');
}

window.addEventListener('message', (event) => {
  if (event.source !== window.parent || typeof event.data?.emailHtml !== 'string') return;
  const doc = new DOMParser().parseFromString(event.data.emailHtml, 'text/html');
  document.body.replaceChildren(...doc.body.childNodes);
  reportHeight();
});

// Images change the height as they arrive (load events do not bubble: listen while capturing).
document.addEventListener('load', reportHeight, true);
