#!/usr/bin/env python3
"""bench-image.py: writes the pull benchmark's image, an OCI layout (image-spec image-layout.md)
of LAYERS gzip layers, each a mix of random bytes (incompressible) and word text (compressible)
plus many small files, ~200 MB compressed in all. usage: bench-image.py DIR [LAYERS]"""
import gzip, hashlib, io, json, os, random, sys, tarfile

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 5
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)
rng = random.Random(4)
words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(2000)]


def text(size):
    chunks, n = [], 0
    while n < size:
        line = " ".join(rng.choices(words, k=12)) + "\n"
        chunks.append(line)
        n += len(line)
    return "".join(chunks).encode()[:size]


def put(data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


layers, diff_ids = [], []
for i in range(count):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for j in range(6):
            add(tar, f"data{i}/random{j}.bin", os.urandom(6 * 1024 * 1024))
        for j in range(4):
            add(tar, f"data{i}/text{j}.txt", text(5 * 1024 * 1024))
        for j in range(400):
            add(tar, f"data{i}/small/{j}.txt", text(rng.randint(512, 8192)))
    tar_bytes = raw.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(tar_bytes).hexdigest())
    digest, size = put(gzip.compress(tar_bytes, compresslevel=6, mtime=0))
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size})

config = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
          "rootfs": {"type": "layers", "diff_ids": diff_ids}}
cdigest, csize = put(json.dumps(config).encode())
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest, "size": csize},
            "layers": layers}
mdigest, msize = put(json.dumps(manifest).encode())
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": manifest["mediaType"], "digest": mdigest,
                                                  "size": msize}]}, f)
with open(os.path.join(out, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
print(sum(layer["size"] for layer in layers))
