// Read QR codes: the browser's BarcodeDetector where it has one, the vendored jsQR otherwise.
const JSQR_URL = new URL('../vendor/jsqr-1.4.0/jsQR.js', import.meta.url).href;
/** Frames are read at most this often (ms): fast enough for a queue, easy on the battery. */
const FRAME_INTERVAL = 150;
/** jsQR reads a frame scaled down to this many pixels on its longer side. */
const CAMERA_SIDE = 800;
const PHOTO_SIDE = 1600;

let jsQRLoaded = null;

function loadJsQR() {
  if (!jsQRLoaded) {
    jsQRLoaded = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = JSQR_URL;
      script.onload = () => resolve(self.jsQR);
      script.onerror = () => reject(new Error('jsQR could not be loaded'));
      document.head.appendChild(script);
    });
  }
  return jsQRLoaded;
}

/** Return the name of the decoder in use and a function reading the first QR code of an image source. */
export async function makeDecoder() {
  if ('BarcodeDetector' in self) {
    try {
      const formats = await self.BarcodeDetector.getSupportedFormats();
      if (formats.includes('qr_code')) {
        const detector = new self.BarcodeDetector({ formats: ['qr_code'] });
        return {
          name: 'BarcodeDetector',
          read: async (source) => {
            const codes = await detector.detect(source);
            return codes.length ? codes[0].rawValue : null;
          },
        };
      }
    } catch (error) {
      // No usable detector on this platform: fall through to jsQR.
    }
  }
  const jsQR = await loadJsQR();
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  return {
    name: 'jsQR',
    read: async (source, width, height, photo = false) => {
      const scale = Math.min(1, (photo ? PHOTO_SIDE : CAMERA_SIDE) / Math.max(width, height));
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      context.drawImage(source, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = jsQR(image.data, image.width, image.height,
        { inversionAttempts: photo ? 'attemptBoth' : 'dontInvert' });
      return code ? code.data : null;
    },
  };
}

/**
 * Start the rear camera in `video` and call `onText(text)` for every QR code read, continuously.
 * Resolves with the decoder's name; rejects when there is no camera or it is refused.
 */
export async function startCamera(video, decoder, onText) {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
  });
  video.srcObject = stream;
  await video.play();
  const tick = async () => {
    if (video.readyState >= 2 && !document.hidden) {
      try {
        const text = await decoder.read(video, video.videoWidth, video.videoHeight);
        if (text) onText(text);
      } catch (error) {
        // A frame that cannot be read is skipped; the next one is tried.
      }
    }
    setTimeout(tick, FRAME_INTERVAL);
  };
  tick();
  return decoder.name;
}

/** Read the first QR code of a photo (a File from the file input); null when none is found. */
export async function readPhoto(file, decoder) {
  const bitmap = await createImageBitmap(file);
  try {
    return await decoder.read(bitmap, bitmap.width, bitmap.height, true);
  } finally {
    bitmap.close();
  }
}
