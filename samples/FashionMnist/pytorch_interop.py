"""Weights both ways between PyTorch and CnnGen, for LeNet-5 on Fashion-MNIST (Debian's /usr/bin/python3, PyTorch 1.13).

  /usr/bin/python3 samples/FashionMnist/pytorch_interop.py train OUT.safetensors [--epochs 3]
      trains the same architecture in PyTorch, saves its state_dict as safetensors (nn.Sequential keys: 0.weight, ...)
      and prints its test accuracy; `dotnet run --project samples/FashionMnist -- evaluate --weights OUT.safetensors`
      must print the same accuracy.
  /usr/bin/python3 samples/FashionMnist/pytorch_interop.py evaluate WEIGHTS.safetensors
      loads CnnGen-trained weights (the train command's lenet5.safetensors) into PyTorch and prints the test accuracy.

No safetensors package is needed: the format is written and read here (8-byte header length, JSON header, raw data).
"""
import argparse
import gzip
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    rank = struct.unpack(">I", data[:4])[0] & 0xFF
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_split(prefix):
    images = torch.from_numpy(read_idx(f"{prefix}-images-idx3-ubyte.gz").astype(np.float32) / 255.0).unsqueeze(1)
    labels = torch.from_numpy(read_idx(f"{prefix}-labels-idx1-ubyte.gz").astype(np.int64))
    return images, labels


def save_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, tensor in tensors.items():
        array = tensor.detach().cpu().numpy()
        dtype = {np.float32: "F32", np.int64: "I64"}[array.dtype.type]
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": np.float32, "I64": np.int64}[entry["dtype"]]
        begin, end = entry["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(body[begin:end], dtype=dtype).reshape(entry["shape"]).copy())
    return tensors


def accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(images[i:i + 1000]).argmax(1) for i in range(0, len(images), 1000)])
    return (predictions == labels).float().mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["train", "evaluate"])
    parser.add_argument("path")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    test_images, test_labels = load_split("t10k")
    model = lenet5()
    if args.command == "train":
        torch.manual_seed(0)
        model = lenet5()
        train_images, train_labels = load_split("train")
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        loss_fn = nn.CrossEntropyLoss()
        for epoch in range(args.epochs):
            model.train()
            order = torch.randperm(len(train_images))
            for start in range(0, len(order), 64):
                batch = order[start:start + 64]
                optimizer.zero_grad()
                loss_fn(model(train_images[batch]), train_labels[batch]).backward()
                optimizer.step()
            print(f"epoch {epoch + 1}: test accuracy {100 * accuracy(model, test_images, test_labels):.2f}%")
        save_safetensors(args.path, model.state_dict())
        print(f"PyTorch-trained weights: {args.path}")
    else:
        model.load_state_dict(load_safetensors(args.path))
    print(f"PyTorch test accuracy of {args.path}: {100 * accuracy(model, test_images, test_labels):.2f}%")


if __name__ == "__main__":
    main()
