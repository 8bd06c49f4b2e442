#!/bin/sh
# Copy the JavaScript the checkpoint scanner uses from node_modules/ into static/vendor/ (development time only).
# Run after `npm ci` at the repository root; commit what it writes. The portal serves these files as they are.
set -eu
cd "$(dirname "$0")/../.."
version() { node -p "require('./node_modules/$1/package.json').version"; }

# jsQR: the package's own built file (UMD: sets self.jsQR) and its licence.
JSQR="static/vendor/jsqr-$(version jsqr)"
rm -rf static/vendor/jsqr-*; mkdir -p "$JSQR"
cp node_modules/jsqr/dist/jsQR.js node_modules/jsqr/LICENSE "$JSQR/"

# noble-curves' ed25519 with the one noble-hashes module it needs (SHA-512), as one ES module.
NOBLE="static/vendor/noble-curves-$(version @noble/curves)"
rm -rf static/vendor/noble-curves-*; mkdir -p "$NOBLE"
echo "export { ed25519 } from '@noble/curves/ed25519';" | node_modules/.bin/esbuild --bundle --format=esm \
  --legal-comments=inline --log-level=warning --outfile="$NOBLE/ed25519.js"
cp node_modules/@noble/curves/LICENSE "$NOBLE/LICENSE"
cp node_modules/@noble/hashes/LICENSE "$NOBLE/LICENSE.noble-hashes"
echo "vendored: $JSQR $NOBLE"
