// photo-parts.js: the photo's bundle's last part (static/form-photo.js, see bundles.toml). Hands
// its factories to the form's script: wiring.js inserts this bundle as a classic <script> once a
// photo is chosen or the webcam asked for, and builds the parts when it has run. Apart because
// the crop frame, the preview, the webcam and the photo's preparation are a third of the form's
// code that a student only needs from that moment on, and the page's first download is the one a
// phone on mobile data waits for.
//
// One global, `window.formPhotoParts`: the two bundles are separate scripts, each in its own
// wrapper, so nothing else of either is seen by the other or by the page. Rejected: an ES module
// with a dynamic import(), which Chromium refuses from file:// (schools open the site from a USB
// key); fetching the code, which file:// refuses too.

window.formPhotoParts = Object.freeze({ makePhoto, makeCrop, makePreview, makeWebcam });
