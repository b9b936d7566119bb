#!/usr/bin/env bash
# Make sure a Chromium for the browser tests exists (vitest.config.ts launches it).
# Uses the distribution's Chromium (Debian/Ubuntu `chromium`), never a Playwright
# download. Override the path with CHROMIUM_PATH.
#
#   - Chromium present            -> nothing to do, exit 0
#   - missing and running as root -> apt-get install chromium libvulkan1
#   - missing and not root        -> explain what to run, exit 1
set -euo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
APT_PACKAGES=(chromium libvulkan1)

# Node's WebGPU (npm `webgpu`, Dawn) loads the Vulkan loader to reach Chromium's
# SwiftShader ICD: libvulkan.so.1 must exist too (Debian's chromium does not depend on it).
have_vulkan() { ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; }

if [[ -x "$CHROMIUM" ]]; then
  echo "setup-browser: using Chromium at $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  if ! have_vulkan; then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      echo "setup-browser: libvulkan1 is missing (needed by the Dawn tests); installing it"
      DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y libvulkan1
    else
      echo "setup-browser: libvulkan.so.1 is missing: the Node WebGPU (Dawn) tests need it. As root: apt-get install -y libvulkan1" >&2
      exit 1
    fi
  fi
  exit 0
fi

if [[ -n "${CHROMIUM_PATH:-}" ]]; then
  echo "setup-browser: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file." >&2
  echo "  Point CHROMIUM_PATH at a Chromium binary, or unset it to use /usr/bin/chromium." >&2
  exit 1
fi

if [[ "$(id -u)" -eq 0 ]]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-browser: $CHROMIUM is missing and this system has no apt-get." >&2
    echo "  Install Chromium with your package manager and set CHROMIUM_PATH to its binary." >&2
    exit 1
  fi
  echo "setup-browser: $CHROMIUM is missing; installing ${APT_PACKAGES[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y "${APT_PACKAGES[@]}"
  if [[ ! -x "$CHROMIUM" ]]; then
    echo "setup-browser: apt-get finished but $CHROMIUM still does not exist." >&2
    echo "  Find the binary (e.g. 'dpkg -L chromium | grep bin/') and set CHROMIUM_PATH." >&2
    exit 1
  fi
  echo "setup-browser: installed $("$CHROMIUM" --version 2>/dev/null || echo Chromium)"
  exit 0
fi

cat >&2 <<MSG
setup-browser: Chromium is missing: $CHROMIUM does not exist.
  The browser tests (vitest project "browser") run WebGPU in the distribution's
  Chromium (SwiftShader on machines without a GPU). Install it as root:

    sudo env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update && apt-get install -y ${APT_PACKAGES[*]}'

  or set CHROMIUM_PATH to an existing Chromium binary. Do not use 'npx playwright install'.
MSG
exit 1
