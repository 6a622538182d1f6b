#!/usr/bin/env bash
# The Debian packages the tests need: chromium (the browser test renders the HTML plan), graphviz
# (the graph test draws with dot) and google-cloud-cli (gcloud makes records beside mldns).
# Installs what is missing when it can (root with apt-get, as on CI); otherwise stops in one line
# naming the command to run.
set -euo pipefail
missing=()
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
command -v dot >/dev/null || missing+=(graphviz)
command -v gcloud >/dev/null || missing+=(google-cloud-cli)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
  exit 0
fi
echo "make test needs ${missing[*]}: run sudo apt-get install -y ${missing[*]}" \
  "(google-cloud-cli comes from Google's apt repository)" >&2
exit 1
