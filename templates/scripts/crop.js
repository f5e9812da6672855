// crop.js: the frame in which the student places the photo at 35:45. Owns #cadrage (shown once
// a photo is ready), the photo inside #cadre (dragged with a finger or the mouse, pinched,
// zoomed with the wheel, moved with the arrow keys and the buttons), the zoom range #zoom and
// the hidden input #recadrage, which carries the frame as `x,y,w,h` in pixels of the photo shown
// (photo.js's working copy; the send uploads that frame cut from the original, with the crop that
// describes it instead, and this frame only when the cut cannot be made). Apart because it is the page's one piece of direct manipulation, with its own state
// (zoom, centre, pointers), and knows nothing of where the photo came from.
//
// The frame's geometry is the function's (form/src/framing.rs), through rules.js: it opens on
// `rules.defaultFrame`, the frame the function would choose with no crop sent (so what the
// student sees untouched is what would be stored), and zooms in no further than the stored
// photo's height (`limits.output_height`) nor below the least frame the function accepts
// (`limits.min_frame_height`). Once the function has found the face (preview.js), its frame
// takes the default's place (`propose`): the frame moves there, and « Recentrer » comes back to it.

/**
 * The crop frame, with the `contract`'s limits and the framing of `rules`.
 * Returns { start, clear, render, reset, propose, rect, zoomTo, zoomBy, moveBy, focus, isShown,
 * frame, zoomRange, onPointerDown, onPointerMove, onPointerEnd, onWheel, onKeyDown }: the elements
 * for the wiring to listen to, the handlers for it to attach.
 */
function makeCrop({ contract, rules }) {
  const { output_height, min_frame_height } = contract.limits;
  const cropper = document.getElementById('cadrage');
  const frame = document.getElementById('cadre');
  const zoomRange = document.getElementById('zoom');
  const cropInput = document.getElementById('recadrage');
  // The <img> is made here: an empty one in the HTML would be invalid.
  const frameImage = document.createElement('img');
  frameImage.className = 'crop-image';
  frameImage.id = 'cadre-image';
  frameImage.alt = '';
  frameImage.draggable = false;
  frame.prepend(frameImage);

  // How far a key, a button, a wheel notch move or zoom: fractions of the frame, and zoom steps.
  const STEP = 0.05;
  const BIG_STEP = 0.2;
  const ZOOM_STEP = 0.1;
  const WHEEL_ZOOM = 2e-3; // per pixel of wheel travel
  const percent = new Intl.NumberFormat('fr-FR', { style: 'percent', maximumFractionDigits: 0 });

  /** The photo in the frame: its size; none when `width` is 0. */
  const photo = { width: 0, height: 0 };
  /** Zoom (1 = the largest frame) and centre, in pixels of the photo; the largest frame's size. */
  const crop = { zoom: 1, maxZoom: 1, cx: 0, cy: 0, coverWidth: 0, coverHeight: 0 };
  const pointers = new Map();
  let pinch = null;
  /** The function's frame on the face, in pixels of the photo; null until it has one. */
  let proposed = null;

  const clamp = (value, min, max) => Math.min(max, Math.max(min, value));
  const isShown = () => photo.width > 0;

  function cropRect() {
    const width = crop.coverWidth / crop.zoom;
    const height = crop.coverHeight / crop.zoom;
    return { x: crop.cx - width / 2, y: crop.cy - height / 2, width, height };
  }

  /** Keeps the frame inside the photo. */
  function clampCrop() {
    crop.zoom = clamp(crop.zoom, 1, crop.maxZoom);
    const { width, height } = cropRect();
    crop.cx = clamp(crop.cx, width / 2, photo.width - width / 2);
    crop.cy = clamp(crop.cy, height / 2, photo.height - height / 2);
  }

  /** Draws the photo in the frame and writes `recadrage`: `x,y,w,h` in pixels of the photo. */
  function render() {
    if (!isShown()) return;
    clampCrop();
    const rect = cropRect();
    const frameWidth = frame.clientWidth;
    if (frameWidth > 0) {
      const scale = frameWidth / rect.width;
      frameImage.style.width = `${photo.width * scale}px`;
      frameImage.style.height = `${photo.height * scale}px`;
      frameImage.style.transform = `translate(${-rect.x * scale}px, ${-rect.y * scale}px)`;
    }
    zoomRange.value = String(crop.zoom);
    zoomRange.setAttribute('aria-valuetext', percent.format(crop.zoom));
    const w = clamp(Math.round(rect.width), 1, photo.width);
    const h = clamp(Math.round(rect.height), 1, photo.height);
    const x = clamp(Math.round(rect.x), 0, photo.width - w);
    const y = clamp(Math.round(rect.y), 0, photo.height - h);
    cropInput.value = `${x},${y},${w},${h}`;
  }

  /** Back to the frame the function would choose: on the face once it found one, else the default. */
  function reset() {
    const frameRect = proposed || rules.defaultFrame(photo.width, photo.height);
    crop.zoom = crop.coverHeight / frameRect.height;
    crop.cx = frameRect.x + frameRect.width / 2;
    crop.cy = frameRect.y + frameRect.height / 2;
    render();
  }

  /** Shows the photo at `url`, `width`×`height` pixels, in the default frame. */
  function start(url, width, height) {
    photo.width = width;
    photo.height = height;
    frameImage.src = url;
    const cover = rules.defaultFrame(width, height);
    crop.coverWidth = cover.width;
    crop.coverHeight = cover.height;
    // Zoom until the frame is as small as the stored photo, never below the least it accepts.
    const smallest = clamp(output_height, min_frame_height, crop.coverHeight);
    crop.maxZoom = Math.max(1, crop.coverHeight / smallest);
    zoomRange.max = String(crop.maxZoom);
    proposed = null;
    cropper.hidden = false;
    reset();
  }

  /**
   * Takes the function's frame `rect` (pixels of the photo) as the one to come back to, and shows
   * it now when `now`. The function may frame a small face closer than the zoom goes by default
   * (the stored photo's size), never below the least frame it accepts: the zoom then reaches it.
   */
  function propose(rect, now) {
    if (!isShown()) return;
    const height = clamp(rect.height, Math.min(min_frame_height, crop.coverHeight), crop.coverHeight);
    const width = (height * crop.coverWidth) / crop.coverHeight;
    crop.maxZoom = Math.max(crop.maxZoom, crop.coverHeight / height);
    zoomRange.max = String(crop.maxZoom);
    // The same centre, at 35:45 and within the zoom's bounds.
    proposed = { x: rect.x + (rect.width - width) / 2, y: rect.y + (rect.height - height) / 2, width, height };
    if (now) reset();
  }

  /** Hides the frame and forgets the photo and the crop. */
  function clear() {
    photo.width = 0;
    photo.height = 0;
    proposed = null;
    frameImage.removeAttribute('src');
    cropper.hidden = true;
    cropInput.value = '';
  }

  /** Moves the photo by (dx, dy) pixels of the screen: the frame moves the other way. */
  function movePhoto(dx, dy) {
    const scale = frame.clientWidth / cropRect().width;
    if (!(scale > 0)) return;
    crop.cx -= dx / scale;
    crop.cy -= dy / scale;
    render();
  }

  function zoomTo(zoom) {
    crop.zoom = zoom;
    render();
  }

  /** Moves by (dx, dy) steps (the arrow buttons: -1, 0 or 1). */
  function moveBy(dx, dy) {
    const step = frame.clientWidth * STEP;
    movePhoto(dx * step, dy * step);
  }

  /** Zooms in (1) or out (-1) by a step. */
  const zoomBy = (direction) => zoomTo(crop.zoom + direction * ZOOM_STEP);

  function onPointerDown(event) {
    if (!isShown()) return;
    frame.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (pointers.size === 2) {
      const [a, b] = Array.from(pointers.values());
      pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y), zoom: crop.zoom };
    }
    frame.classList.add('is-dragging');
  }

  function onPointerMove(event) {
    const last = pointers.get(event.pointerId);
    if (!last) return;
    const current = { x: event.clientX, y: event.clientY };
    pointers.set(event.pointerId, current);
    if (pointers.size === 1) {
      movePhoto(current.x - last.x, current.y - last.y);
    } else if (pinch && pointers.size === 2) {
      const [a, b] = Array.from(pointers.values());
      const distance = Math.hypot(a.x - b.x, a.y - b.y);
      if (pinch.distance > 0) zoomTo(pinch.zoom * (distance / pinch.distance));
    }
  }

  function onPointerEnd(event) {
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
    if (pointers.size === 0) frame.classList.remove('is-dragging');
  }

  function onWheel(event) {
    if (!isShown()) return;
    event.preventDefault();
    zoomTo(crop.zoom * Math.exp(-event.deltaY * WHEEL_ZOOM));
  }

  function onKeyDown(event) {
    const step = frame.clientWidth * (event.shiftKey ? BIG_STEP : STEP);
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) movePhoto(...moves[event.key]);
    else if (event.key === '+' || event.key === '=') zoomBy(1);
    else if (event.key === '-' || event.key === '−' || event.key === '_') zoomBy(-1);
    else if (event.key === '0') reset();
    else return;
    event.preventDefault();
  }

  return Object.freeze({
    start,
    clear,
    render,
    reset,
    propose,
    /** The frame shown, in pixels of the photo; null with no photo. */
    rect: () => (isShown() ? cropRect() : null),
    zoomTo,
    zoomBy,
    moveBy,
    focus: () => frame.focus(),
    isShown,
    frame,
    zoomRange,
    onPointerDown,
    onPointerMove,
    onPointerEnd,
    onWheel,
    onKeyDown,
  });
}
