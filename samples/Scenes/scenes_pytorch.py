"""The Scenes sample's two networks in PyTorch, trained with the same recipe on the scenes CnnGen exports.

  dotnet run -c Release --project samples/Scenes -- export scenes.safetensors
  /usr/bin/python3 samples/Scenes/scenes_pytorch.py scenes.safetensors [--segment-epochs 4 --detect-epochs 6 ...]
      trains the U-Net and the grid detector (Adam, cosine schedule per epoch, batch 16, the same scenes per epoch),
      prints the same metrics (pixel accuracy, mean IoU and IoU per class; mAP@0.5 and AP per class) and the wall times,
      and saves unet.safetensors / detector.safetensors with the same keys as CnnGen's.
  /usr/bin/python3 samples/Scenes/scenes_pytorch.py scenes.safetensors --evaluate RUN_FOLDER
      loads CnnGen's unet.safetensors and detector.safetensors from RUN_FOLDER into these modules and prints the metrics.
  /usr/bin/python3 samples/Scenes/scenes_pytorch.py scenes.safetensors --replay TRACE_FOLDER
      trains from the initial weights on the batches recorded by `dotnet run --project samples/Scenes -- trace`, in
      float32 and float64, and prints CnnGen's loss beside PyTorch's step by step and the weights' differences.

Residual and Concat are the modules of docs/DESIGN.md ("Beyond nn.Sequential"), so state_dict keys match CnnGen's.
No safetensors package is needed: the format is read and written here (8-byte header length, JSON header, raw data).
"""
import argparse
import json
import math
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
LABEL_NAMES = ["background"] + CLASS_NAMES
GRID, CELL, BOX_SCALE, BOX_WEIGHT = 8, 8, 32.0, 5.0


class Residual(nn.Module):            # y = body(x) + shortcut(x); no shortcut = identity
    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = nn.Sequential(*body)
        self.shortcut = nn.Sequential(*shortcut) if shortcut is not None else None

    def forward(self, x):
        return self.body(x) + (x if self.shortcut is None else self.shortcut(x))


class Concat(nn.Module):              # y = cat([branch(x) for each branch], dim=1); an empty branch = identity
    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList([nn.Sequential(*b) for b in branches])

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], 1)


def unet():
    """SceneUNet of samples/Scenes/Networks.cs, module for module."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
        Concat([], [
            nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
            Concat([], [
                nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                Concat([], [
                    nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
                    nn.ConvTranspose2d(64, 32, 2, stride=2),
                ]),
                nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(), nn.ConvTranspose2d(32, 16, 2, stride=2),
            ]),
            nn.Conv2d(32, 16, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        ]),
        nn.Conv2d(24, 16, 1), nn.ReLU(), nn.Conv2d(16, 11, 1))


def detector():
    """GridDetector of samples/Scenes/Networks.cs."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 16, 1))


# ---- safetensors ----------------------------------------------------------------------------------------------------
DTYPES = {"U8": np.uint8, "I32": np.int32, "F32": np.float32, "I64": np.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    base, tensors = 8 + length, {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data, dtype=DTYPES[info["dtype"]], count=(end - start) // np.dtype(DTYPES[info["dtype"]]).itemsize,
                                      offset=base + start).reshape(info["shape"])
    return tensors


def save_safetensors(path, state):
    header, chunks, offset = {}, [], 0
    for name, tensor in state.items():
        array = tensor.detach().cpu().numpy().astype(np.float32)
        raw = array.tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def read_metadata(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(length)).get("__metadata__", {})


def load_weights(model, path):
    state = {k: torch.from_numpy(v.copy()) for k, v in read_safetensors(path).items()}
    model.load_state_dict(state)


# ---- the recipe -----------------------------------------------------------------------------------------------------
def cosine(base, epoch, epochs):
    return base * (1 + math.cos(math.pi * epoch / epochs)) / 2


def epoch_order(generator, count, per_epoch):
    return torch.randperm(count, generator=generator)[:min(per_epoch, count)]


def encode_grid(boxes, classes):
    """Per scene and cell: objectness, class (-1: none), box (tx, ty, tw, th) - as GridCoding.Encode."""
    n = boxes.shape[0]
    obj = np.zeros((n, GRID * GRID), np.int64)
    cls = np.full((n, GRID * GRID), -1, np.int64)
    box = np.zeros((n, GRID * GRID, 4), np.float32)
    for s in range(n):
        for k in range(boxes.shape[1]):
            if classes[s, k] < 0:
                continue
            x0, y0, x1, y1 = (int(v) for v in boxes[s, k])
            column, row = (x0 + x1) // 2 // CELL, (y0 + y1) // 2 // CELL
            cell = row * GRID + column
            obj[s, cell], cls[s, cell] = 1, classes[s, k]
            box[s, cell] = [(x0 + x1) * 0.5 / CELL - column, (y0 + y1) * 0.5 / CELL - row, (x1 - x0) / BOX_SCALE, (y1 - y0) / BOX_SCALE]
    return torch.from_numpy(obj), torch.from_numpy(cls), torch.from_numpy(box)


def detector_loss(out, obj, cls, box):
    """DetectorLoss: CE(objectness) over cells + CE(class) over responsible cells + 5 x squared box error summed / their count."""
    cells = out.permute(0, 2, 3, 1).reshape(-1, 16)
    obj, cls, box = obj.reshape(-1), cls.reshape(-1), box.reshape(-1, 4)
    pos = obj == 1
    p = int(pos.sum())
    loss = F.cross_entropy(cells[:, 0:2], obj)
    if p > 0:
        loss = loss + F.cross_entropy(cells[pos, 2:12], cls[pos]) + BOX_WEIGHT * ((cells[pos, 12:16] - box[pos]) ** 2).sum() / p
    return loss


# ---- metrics --------------------------------------------------------------------------------------------------------
def box_iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = w * h if w > 0 and h > 0 else 0.0
    union = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1]) + max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1]) - inter
    return 0.0 if union <= 0 else inter / union


def nms(detections, threshold):
    kept = []
    for d in sorted(detections, key=lambda d: -d[2]):   # sorted() is stable: ties keep order
        if all(k[1] != d[1] or box_iou(k[0], d[0]) <= threshold for k in kept):
            kept.append(d)
    return kept


def decode(out, min_score=0.01, nms_threshold=0.45):
    """One scene's (16, 8, 8) output -> [(box, class, score)] after NMS, as GridCoding.Decode."""
    o = out.reshape(16, GRID * GRID).double().numpy()
    p_obj = 1 / (1 + np.exp(o[0] - o[1]))
    logits = o[2:12]
    best = logits.argmax(0)
    p_cls = 1 / np.exp(logits - logits.max(0)).sum(0)
    raw = []
    for cell in range(GRID * GRID):
        score = p_obj[cell] * p_cls[cell]
        if score < min_score:
            continue
        row, column = divmod(cell, GRID)
        cx, cy = (column + o[12, cell]) * CELL, (row + o[13, cell]) * CELL
        w, h = max(1.0, o[14, cell] * BOX_SCALE), max(1.0, o[15, cell] * BOX_SCALE)
        clamp = lambda v: min(max(v, 0.0), 64.0)
        raw.append(((clamp(cx - w / 2), clamp(cy - h / 2), clamp(cx + w / 2), clamp(cy + h / 2)), int(best[cell]), float(score)))
    return nms(raw, nms_threshold)


def average_precision(precision, recall):
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return float(np.sum((mrec[1:] - mrec[:-1]) * mpre[1:]))


def mean_average_precision(detections, boxes, classes, threshold=0.5):
    aps = []
    for c in range(10):
        truths = {s: [tuple(float(v) for v in boxes[s, k]) for k in range(boxes.shape[1]) if classes[s, k] == c] for s in range(len(detections))}
        count = sum(len(t) for t in truths.values())
        matched = {s: [False] * len(t) for s, t in truths.items()}
        ranked = sorted(((d[2], s, d[0]) for s in range(len(detections)) for d in detections[s] if d[1] == c), key=lambda r: -r[0])
        tp = fp = 0
        precision, recall = [], []
        for _, s, b in ranked:
            ious = [box_iou(b, t) for t in truths[s]]
            j = int(np.argmax(ious)) if ious else -1
            if j >= 0 and ious[j] >= threshold and not matched[s][j]:
                tp += 1
                matched[s][j] = True
            else:
                fp += 1
            precision.append(tp / (tp + fp))
            recall.append(tp / count if count else 0.0)
        aps.append((c, count, average_precision(np.array(precision), np.array(recall)) if count else float("nan"), len(ranked), recall[-1] if recall else 0.0))
    present = [a[2] for a in aps if a[1] > 0]
    return sum(present) / len(present), aps


def segmentation_report(model, images, masks):
    model.eval()
    confusion = torch.zeros(11, 11, dtype=torch.int64)
    with torch.no_grad():
        for start in range(0, len(images), 256):
            pred = model(images[start:start + 256]).argmax(1).reshape(-1)
            confusion += torch.bincount(masks[start:start + 256].reshape(-1) * 11 + pred, minlength=121).reshape(11, 11)
    tp = confusion.diag().double()
    union = confusion.sum(0).double() + confusion.sum(1).double() - tp
    iou = (tp / union).tolist()
    accuracy = float(tp.sum() / confusion.sum())
    mean_iou = sum(v for v in iou if not math.isnan(v)) / sum(1 for v in iou if not math.isnan(v))
    print(f"Pixel accuracy {100 * accuracy:.2f}%, mean IoU over 11 classes {100 * mean_iou:.2f}%")
    print("IoU per class:")
    for k, v in enumerate(iou):
        print(f"  {k:2} {LABEL_NAMES[k]:<12} {100 * v:6.2f}%")
    return accuracy, mean_iou


def detection_report(model, images, boxes, classes):
    model.eval()
    with torch.no_grad():
        outputs = torch.cat([model(images[s:s + 256]) for s in range(0, len(images), 256)])
    detections = [decode(outputs[s]) for s in range(len(images))]
    mean, aps = mean_average_precision(detections, boxes, classes)
    print(f"mAP@0.5 (VOC, every point) {100 * mean:.2f}%")
    print("AP per class (truths, final precision / recall):")
    for c, count, ap, n, last in aps:
        print(f"  {c:2} {CLASS_NAMES[c]:<12} AP {100 * ap:6.2f}%  ({count} truths, {n} detections, recall {100 * last:.1f}%)")
    return mean


# ---- replaying CnnGen's first steps ---------------------------------------------------------------------------------
def replay_steps(make, trace, lr, step_loss, dtype):
    """Trains from CnnGen's initial weights on CnnGen's batches; returns the loss of every step and the weights after
    the first and the last step."""
    model = make().to(dtype)
    model.load_state_dict({k[len("initial."):]: torch.from_numpy(v.copy()).to(dtype) for k, v in trace.items() if k.startswith("initial.")})
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses, after_first = [], None
    for batch in torch.from_numpy(trace["order"].copy()):
        loss = step_loss(model, batch, dtype)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
        if after_first is None:
            after_first = {k: v.detach().clone().double() for k, v in model.state_dict().items()}
    return np.array(losses), after_first, {k: v.detach().double() for k, v in model.state_dict().items()}


def weight_distance(trace, prefix, state):
    """The largest relative difference (L2 norm of the difference over the norm) of any tensor, and its key."""
    worst = max(((float((torch.from_numpy(trace[prefix + k].copy()).double() - v).norm() / v.norm().clamp_min(1e-30)), k) for k, v in state.items()))
    return worst


def replay(args, data):
    """Replays the traces of `dotnet run --project samples/Scenes -- trace` (in args.replay) in float32 and float64.
    CnnGen against PyTorch float32 is to be read against PyTorch float32 against float64: the rounding's own scale."""
    images = torch.from_numpy(data["train_images"].astype(np.float32) / 255).unsqueeze(1)
    masks = torch.from_numpy(data["train_masks"].astype(np.int64))
    obj, cls, box = encode_grid(data["train_boxes"], data["train_classes"])
    networks = [
        ("segment", unet, lambda model, b, dtype: F.cross_entropy(model(images[b].to(dtype)), masks[b])),
        ("detect", detector, lambda model, b, dtype: detector_loss(model(images[b].to(dtype)), obj[b], cls[b], box[b].to(dtype))),
    ]
    for name, make, step_loss in networks:
        path = os.path.join(args.replay, f"{name}-trace.safetensors")
        if not os.path.exists(path) or (args.only and args.only != name):
            continue
        trace, lr = read_safetensors(path), float(read_metadata(path)["lr"])
        cnngen = trace["loss"].astype(np.float64)
        clock, cpu = time.perf_counter(), time.process_time()
        single = replay_steps(make, trace, lr, step_loss, torch.float32)
        double = replay_steps(make, trace, lr, step_loss, torch.float64)
        print(f"\n{name}: {len(cnngen)} steps of CnnGen's batches from CnnGen's initial weights, lr {lr}, "
              f"PyTorch float32 and float64 ({time.perf_counter() - clock:.1f} s, CPU {time.process_time() - cpu:.1f} s)")
        print(" step    CnnGen  PyTorch32  PyTorch64   |CnnGen-PT64|  |PT32-PT64|")
        steps = len(cnngen)
        for s in sorted({1, 2, 3, 5, 10, 20, 50, 100, 150, 200, 250, 300, 400, 500, 600, 700, steps}):
            if s <= steps:
                print(f"{s:5} {cnngen[s - 1]:9.5f} {single[0][s - 1]:10.5f} {double[0][s - 1]:10.5f}   {abs(cnngen[s - 1] - double[0][s - 1]):12.2e} {abs(single[0][s - 1] - double[0][s - 1]):12.2e}")
        for label, window in (("first 10", slice(0, 10)), ("first 100", slice(0, 100)), (f"all {steps}", slice(0, steps))):
            print(f"mean loss, {label} steps: CnnGen {cnngen[window].mean():.5f}  PyTorch32 {single[0][window].mean():.5f}  PyTorch64 {double[0][window].mean():.5f}")
        for prefix, index in (("step1.", 1), ("final.", 2)):
            c64, ck = weight_distance(trace, prefix, double[index])
            s64, sk = weight_distance({prefix + k: v.numpy() for k, v in single[index].items()}, prefix, double[index])
            print(f"weights after {'step 1' if index == 1 else f'step {steps}'}: largest relative difference CnnGen-PT64 {c64:.2e} ({ck}), PT32-PT64 {s64:.2e} ({sk})")


# ---- training -------------------------------------------------------------------------------------------------------
def train_segmentation(args, data):
    torch.manual_seed(args.seed)
    model = unet()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.segment_lr)
    images = torch.from_numpy(data["train_images"].astype(np.float32) / 255).unsqueeze(1)
    masks = torch.from_numpy(data["train_masks"].astype(np.int64))
    test_images = torch.from_numpy(data["test_images"].astype(np.float32) / 255).unsqueeze(1)
    test_masks = torch.from_numpy(data["test_masks"].astype(np.int64))
    generator = torch.Generator().manual_seed(args.seed)
    print(f"\nSegmentation: U-Net, {sum(p.numel() for p in model.parameters()):,} parameters, {args.segment_epochs} epochs, lr {args.segment_lr}, {torch.get_num_threads()} thread(s)")
    seconds = 0.0
    for epoch in range(args.segment_epochs):
        for group in optimizer.param_groups:
            group["lr"] = cosine(args.segment_lr, epoch, args.segment_epochs)
        model.train()
        order = epoch_order(generator, len(images), args.scenes_per_epoch)
        clock, cpu, total = time.perf_counter(), time.process_time(), 0.0
        for start in range(0, len(order), args.batch_size):
            batch = order[start:start + args.batch_size]
            loss = F.cross_entropy(model(images[batch]), masks[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss) * len(batch)
        elapsed, cpu = time.perf_counter() - clock, time.process_time() - cpu
        seconds += elapsed
        model.eval()
        with torch.no_grad():
            correct, loss_sum = 0, 0.0
            for s in range(0, len(test_images), 256):
                out = model(test_images[s:s + 256])
                loss_sum += float(F.cross_entropy(out, test_masks[s:s + 256], reduction="sum"))
                correct += int((out.argmax(1) == test_masks[s:s + 256]).sum())
        pixels = test_masks.numel()
        print(f"segment epoch {epoch + 1:2}/{args.segment_epochs}  train loss {total / len(order):.4f}  test loss {loss_sum / pixels:.4f}  "
              f"pixel accuracy {100 * correct / pixels:.2f}%  {len(order) / elapsed:,.0f} scenes/s  {elapsed:.1f} s (CPU {cpu:.1f} s)", flush=True)
    save_safetensors(os.path.join(args.output, "unet.safetensors"), model.state_dict())
    _, mean_iou = segmentation_report(model, test_images, test_masks)
    return mean_iou, seconds


def train_detection(args, data):
    torch.manual_seed(args.seed)
    model = detector()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.detect_lr)
    images = torch.from_numpy(data["train_images"].astype(np.float32) / 255).unsqueeze(1)
    obj, cls, box = encode_grid(data["train_boxes"], data["train_classes"])
    test_images = torch.from_numpy(data["test_images"].astype(np.float32) / 255).unsqueeze(1)
    generator = torch.Generator().manual_seed(args.seed + 1)
    print(f"\nDetection: grid detector (8x8 cells), {sum(p.numel() for p in model.parameters()):,} parameters, {args.detect_epochs} epochs, lr {args.detect_lr}, {torch.get_num_threads()} thread(s)")
    seconds = 0.0
    for epoch in range(args.detect_epochs):
        for group in optimizer.param_groups:
            group["lr"] = cosine(args.detect_lr, epoch, args.detect_epochs)
        model.train()
        order = epoch_order(generator, len(images), args.scenes_per_epoch)
        clock, cpu, total = time.perf_counter(), time.process_time(), 0.0
        for start in range(0, len(order), args.batch_size):
            batch = order[start:start + args.batch_size]
            loss = detector_loss(model(images[batch]), obj[batch], cls[batch], box[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss) * len(batch)
        elapsed, cpu = time.perf_counter() - clock, time.process_time() - cpu
        seconds += elapsed
        print(f"detect epoch {epoch + 1:2}/{args.detect_epochs}  train loss {total / len(order):.4f}  {len(order) / elapsed:,.0f} scenes/s  {elapsed:.1f} s (CPU {cpu:.1f} s)", flush=True)
    save_safetensors(os.path.join(args.output, "detector.safetensors"), model.state_dict())
    mean = detection_report(model, test_images, data["test_boxes"], data["test_classes"])
    return mean, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenes", help="the file written by `dotnet run --project samples/Scenes -- export`")
    parser.add_argument("--segment-epochs", type=int, default=6)
    parser.add_argument("--detect-epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--segment-lr", type=float, default=0.003)
    parser.add_argument("--detect-lr", type=float, default=0.002)
    parser.add_argument("--scenes-per-epoch", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", choices=["segment", "detect"])
    parser.add_argument("--output", default="scenes-pytorch")
    parser.add_argument("--evaluate", metavar="RUN_FOLDER", help="evaluate CnnGen's unet.safetensors and detector.safetensors instead of training")
    parser.add_argument("--replay", metavar="TRACE_FOLDER", help="replay the steps recorded by `dotnet run --project samples/Scenes -- trace` instead of training")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = read_safetensors(args.scenes)
    print(f"{args.scenes}: {len(data['train_images']):,} training and {len(data['test_images']):,} test scenes")
    if args.evaluate:
        test_images = torch.from_numpy(data["test_images"].astype(np.float32) / 255).unsqueeze(1)
        model = unet()
        load_weights(model, os.path.join(args.evaluate, "unet.safetensors"))
        segmentation_report(model, test_images, torch.from_numpy(data["test_masks"].astype(np.int64)))
        model = detector()
        load_weights(model, os.path.join(args.evaluate, "detector.safetensors"))
        detection_report(model, test_images, data["test_boxes"], data["test_classes"])
        return
    if args.replay:
        replay(args, data)
        return
    os.makedirs(args.output, exist_ok=True)
    summary = []
    if args.only in (None, "segment"):
        mean_iou, seconds = train_segmentation(args, data)
        summary.append(f"Segmentation: mean IoU {100 * mean_iou:.2f}%; training {seconds:.1f} s")
    if args.only in (None, "detect"):
        mean, seconds = train_detection(args, data)
        summary.append(f"Detection: mAP@0.5 {100 * mean:.2f}%; training {seconds:.1f} s")
    print()
    print("\n".join(summary))


if __name__ == "__main__":
    main()
