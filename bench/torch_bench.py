#!/usr/bin/python3
"""The PyTorch side of tapegrad's benchmark (issue 7): the same workloads as
bench/lenet_bench.cpp, bench/airfoil_bench.cpp, bench/micro_bench.cpp and
bench/resnet_bench.cpp, written
the way PyTorch's CIFAR-10 tutorial and the d2l course write them, printing one JSON
object per line in the same format (bench/assemble.py joins the two sides).

    torch_bench.py --workload lenet|memory|cifar|airfoil|micro|resnet [--threads N]
                   [--repeats N] [--batches 4,32,64,256] [--images N] [--steps N]
                   [--cifar DIR] [--epochs N] [--data FILE]

Each figure is the median of --repeats timed repeats after one untimed warm-up repeat
(the memory figure is one run). Needs python3-torch and python3-torchvision (Debian):
run it with /usr/bin/python3. OPENBLAS_NUM_THREADS is forced to 1 before torch loads;
torch.set_num_threads(--threads) sets the threads.
"""

import argparse
import math
import os
import platform
import statistics
import sys
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before torch loads OpenBLAS

import json  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torch.optim as optim  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

SIDE = "pytorch"
FLOPS_PER_REPEAT = 1e9  # micro: work per repeat, as kFlopsPerRepeat in micro_bench.cpp
CHAIN_OPS, CHAINS_PER_REPEAT = 1000, 20
AIRFOIL_STEPS_PER_REPEAT = 300  # airfoil: whole epochs adding up to at least this many steps


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error and exit status 2, like the C++ programs."""

    def error(self, message):
        usage = " ".join(self.format_usage().split()[1:])
        sys.stderr.write(f"torch_bench.py: {message} (usage: {usage})\n")
        sys.exit(2)


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expects an integer >= 1, got '{text}'")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expects an integer >= 1, got '{text}'")
    return value


def int_list(text):
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expects positive integers separated by commas, got '{text}'")
    return values


def emit(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


def report(args, workload, setting, value, unit, higher_is_better=True, samples=(), note="",
           baseline=None):
    line = {"side": SIDE, "program": f"torch_bench {args.workload}", "workload": workload,
            "setting": setting, "threads": torch.get_num_threads(), "value": value, "unit": unit,
            "better": "higher" if higher_is_better else "lower", "samples": list(samples),
            "note": note}
    if baseline is not None:
        line["baseline"] = baseline  # memory: MiB resident before the workload
    emit(line)


def meta(args):
    import torchvision
    emit({"side": SIDE, "program": f"torch_bench {args.workload}", "meta": {
        "version": torch.__version__, "torchvision": torchvision.__version__,
        "python": platform.python_version(), "numpy": np.__version__,
        "threads": torch.get_num_threads(),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "parallel": torch.__config__.parallel_info().splitlines()[-1].strip(),
        "repeats": args.repeats}})


def sample_seconds(f, repeats, warmup=1):
    """Wall times of `repeats` calls of f after `warmup` untimed calls (timing.h's)."""
    for _ in range(warmup):
        f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return times


def proc_status_mib(field="VmHWM"):
    """VmHWM (peak resident set size) or VmRSS (current) of this process in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return -1.0


# ---- LeNet: the PyTorch CIFAR-10 tutorial's network and training loop ----------------------

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def course_optimizer(net):
    return optim.SGD(net.parameters(), lr=0.001, momentum=0.9)


class Pool:
    """Random images that batches are sliced from (views), labels i % 10; as in lenet_bench."""

    def __init__(self, batch):
        self.size = (max(1024, batch) + batch - 1) // batch * batch
        self.images = torch.randn(self.size, 3, 32, 32)
        self.labels = torch.arange(self.size) % 10

    def batch(self, step, batch):
        start = step * batch % self.size
        return self.images[start:start + batch], self.labels[start:start + batch]


def train_step(net, criterion, optimizer, inputs, labels):
    optimizer.zero_grad()
    outputs = net(inputs)
    loss = criterion(outputs, labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def bench_lenet(args):
    criterion = nn.CrossEntropyLoss()
    for batch in args.batches:
        torch.manual_seed(0)
        net = Net()
        optimizer = course_optimizer(net)
        pool = Pool(batch)
        steps = max(1, args.images // batch)
        counter = [0]

        def repeat():
            for _ in range(steps):
                train_step(net, criterion, optimizer, *pool.batch(counter[0], batch))
                counter[0] += 1

        rate = [steps * batch / t for t in sample_seconds(repeat, args.repeats)]
        report(args, "LeNet training step", f"batch {batch}", statistics.median(rate),
               "images/s", samples=rate, note=f"{steps} steps per repeat")

    batch = 256
    torch.manual_seed(0)
    net = Net()
    net.eval()
    pool = Pool(batch)
    steps = max(1, args.images // batch)
    counter = [0]

    def infer():
        with torch.no_grad():
            for _ in range(steps):
                net(pool.batch(counter[0], batch)[0])
                counter[0] += 1

    rate = [steps * batch / t for t in sample_seconds(infer, args.repeats)]
    report(args, "LeNet inference (eval, no grad)", f"batch {batch}", statistics.median(rate),
           "images/s", samples=rate, note=f"{steps} batches per repeat")


def bench_memory(args):
    batch = 64
    before = proc_status_mib("VmRSS")  # the interpreter and its libraries
    criterion = nn.CrossEntropyLoss()
    torch.manual_seed(0)
    net = Net()
    optimizer = course_optimizer(net)
    pool = Pool(batch)
    for step in range(args.steps):
        train_step(net, criterion, optimizer, *pool.batch(step, batch))
    report(args, "LeNet training peak memory (VmHWM)", "batch 64", proc_status_mib("VmHWM"),
           "MiB", higher_is_better=False,
           note=f"whole process after {args.steps} steps, {pool.size} images in memory; "
                f"{before:.0f} MiB resident before building the model", baseline=before)


def decode(root):
    """ImageFolder + ToTensor + Normalize, decoded once into one tensor (not timed)."""
    import torchvision
    import torchvision.transforms as transforms
    transform = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    folder = torchvision.datasets.ImageFolder(root, transform=transform)
    loader = DataLoader(folder, batch_size=1000, num_workers=os.cpu_count() or 1)
    images = torch.cat([x for x, _ in loader])
    return TensorDataset(images, torch.tensor(folder.targets))


def bench_cifar(args):
    train = decode(os.path.join(args.cifar, "train"))
    test = decode(os.path.join(args.cifar, "test"))
    trainloader = DataLoader(train, batch_size=4, shuffle=True)
    criterion = nn.CrossEntropyLoss()
    epoch_seconds, accuracy, last_loss = [], [], []
    for r in range(args.repeats):
        torch.manual_seed(r)
        net = Net()
        optimizer = course_optimizer(net)
        for _ in range(args.epochs):
            loss_sum = 0.0
            t0 = time.perf_counter()
            for inputs, labels in trainloader:
                loss_sum += train_step(net, criterion, optimizer, inputs, labels)
            epoch_seconds.append(time.perf_counter() - t0)
        last_loss.append(loss_sum / len(trainloader))
        correct = 0
        net.eval()
        with torch.no_grad():
            images, labels = test.tensors
            for i in range(0, len(test), 1000):
                predicted = net(images[i:i + 1000]).argmax(1)
                correct += (predicted == labels[i:i + 1000]).sum().item()
        accuracy.append(100.0 * correct / len(test))
    setting = f"batch 4, {args.epochs} epochs"
    report(args, "CIFAR-10 course recipe: time per epoch", setting,
           statistics.median(epoch_seconds), "s/epoch", higher_is_better=False,
           samples=epoch_seconds,
           note=f"{args.repeats} runs x {args.epochs} epochs; {len(train)} train images")
    report(args, "CIFAR-10 course recipe: test accuracy", setting, statistics.median(accuracy),
           "%", samples=accuracy,
           note=f"{len(test)} test images; last-epoch mean loss {statistics.median(last_loss):.3f}")


# ---- airfoil: d2l's train_concise_ch11 ---------------------------------------------------

def airfoil_cases():
    return [
        ("SGD", 1, lambda p: optim.SGD(p, lr=0.005)),
        ("SGD", 10, lambda p: optim.SGD(p, lr=0.05)),
        ("SGD", 100, lambda p: optim.SGD(p, lr=0.4)),
        ("SGD", 1500, lambda p: optim.SGD(p, lr=0.5)),  # the course's lr 1 diverges slowly
        ("momentum 0.9", 10, lambda p: optim.SGD(p, lr=0.005, momentum=0.9)),
        ("AdaGrad", 10, lambda p: optim.Adagrad(p, lr=0.1)),
        ("RMSProp", 10, lambda p: optim.RMSprop(p, lr=0.01, alpha=0.9)),
        ("Adadelta", 10, lambda p: optim.Adadelta(p, rho=0.9)),
        ("Adam", 10, lambda p: optim.Adam(p, lr=0.01)),
    ]


def bench_airfoil(args):
    data = np.genfromtxt(args.data, dtype=np.float32, delimiter="\t")
    data = torch.from_numpy((data - data.mean(axis=0)) / data.std(axis=0))
    dataset = TensorDataset(data[:1500, :-1], data[:1500, -1])
    loss = nn.MSELoss(reduction="none")
    for name, batch, make in airfoil_cases():
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(5, 1))
        optimizer = make(net.parameters())
        data_iter = DataLoader(dataset, batch_size=batch, shuffle=True)
        epochs = math.ceil(AIRFOIL_STEPS_PER_REPEAT / len(data_iter))

        def repeat():
            for _ in range(epochs):
                for X, y in data_iter:
                    optimizer.zero_grad()
                    out = net(X)
                    y = y.reshape(out.shape)
                    l = loss(out, y) / 2
                    l.mean().backward()
                    optimizer.step()

        per_epoch = [t / epochs for t in sample_seconds(repeat, args.repeats)]
        with torch.no_grad():
            X, y = dataset.tensors
            out = net(X)
            final = (loss(out, y.reshape(out.shape)) / 2).mean().item()
        report(args, f"airfoil Linear(5, 1), {name}", f"batch {batch}",
               statistics.median(per_epoch), "s/epoch", higher_is_better=False,
               samples=per_epoch,
               note=f"{len(data_iter)} steps per epoch, {epochs} epochs per repeat; "
                    f"final loss {final:.4f}")


# ---- micro: per-op overhead, matmul and conv2d at LeNet shapes ------------------------------

def gflops(seconds, flops):
    return [flops / s / 1e9 for s in seconds]


def bench_micro(args):
    torch.manual_seed(0)
    x, c = torch.rand(4, requires_grad=True), torch.rand(4)

    def chain():
        for _ in range(CHAINS_PER_REPEAT):
            y = x
            for _ in range(CHAIN_OPS):
                y = y + c
            y.sum().backward()
            x.grad = None

    def chain_no_grad():
        with torch.no_grad():
            for _ in range(CHAINS_PER_REPEAT):
                y = x
                for _ in range(CHAIN_OPS):
                    y = y + c

    per_op = CHAINS_PER_REPEAT * CHAIN_OPS
    ns = [t / per_op * 1e9 for t in sample_seconds(chain, args.repeats)]
    report(args, "per-op overhead: chain of 1000 adds (4 floats), forward + backward",
           "tiny tensors", statistics.median(ns), "ns/op", higher_is_better=False, samples=ns,
           note="time / 1000 adds (sum + backward included)")
    ns = [t / per_op * 1e9 for t in sample_seconds(chain_no_grad, args.repeats)]
    report(args, "per-op overhead: chain of 1000 adds (4 floats), forward, no grad",
           "tiny tensors", statistics.median(ns), "ns/op", higher_is_better=False, samples=ns)

    for batch in (64, 256):
        for m, k, n in ((batch, 400, 120), (batch, 120, 84), (batch, 84, 10)):
            flops = 2.0 * m * k * n
            calls = max(1, int(FLOPS_PER_REPEAT / flops))
            a, b = torch.randn(m, k), torch.randn(k, n)

            def matmuls():
                for _ in range(calls):
                    torch.matmul(a, b)

            g = gflops(sample_seconds(matmuls, args.repeats), flops * calls)
            report(args, "matmul (LeNet Linear shapes)", f"[{m}, {k}] @ [{k}, {n}]",
                   statistics.median(g), "GFLOP/s", samples=g, note=f"{calls} calls per repeat")

    for batch in (64, 256):
        for name, cin, oc, size, kernel, input_grad in (
                ("conv1 3->6 k5 32x32", 3, 6, 32, 5, False),
                ("conv2 6->16 k5 14x14", 6, 16, 14, 5, True)):
            o = size - kernel + 1
            gemm = 2.0 * batch * oc * cin * kernel * kernel * o * o
            flops = gemm * (3 if input_grad else 2)
            calls = max(1, int(FLOPS_PER_REPEAT / flops))
            x = torch.randn(batch, cin, size, size, requires_grad=input_grad)
            w = (torch.randn(oc, cin, kernel, kernel) * 0.1).requires_grad_()
            b = torch.zeros(oc, requires_grad=True)
            gy = torch.randn(batch, oc, o, o)

            def convs():
                for _ in range(calls):
                    y = F.conv2d(x, w, b)
                    y.backward(gy)
                    x.grad = w.grad = b.grad = None

            g = gflops(sample_seconds(convs, args.repeats), flops * calls)
            report(args, f"conv2d forward + backward, {name}", f"batch {batch}",
                   statistics.median(g), "GFLOP/s", samples=g,
                   note=f"{'dX, dW, db' if input_grad else 'dW, db'}; {calls} calls per repeat")


# ---- ResNet-20: the CIFAR ResNet of He et al. 2016 (shortcut A), as nn/resnet.h -------------

class BasicBlock(nn.Module):
    def __init__(self, inp, out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out)
        self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.stride, self.extra = stride, out - inp

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        s = x
        if self.stride != 1 or self.extra:  # option A: subsample, zero channels on both sides
            s = F.pad(x[:, :, ::self.stride, ::self.stride],
                      (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))
        return F.relu(out + s)


class ResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks = []
        for inp, out, stride in ((16, 16, 1), (16, 32, 2), (32, 64, 2)):
            blocks += [BasicBlock(inp, out, stride), BasicBlock(out, out, 1),
                       BasicBlock(out, out, 1)]
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        h = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(h.mean((2, 3)))


def bench_resnet(args):
    torch.manual_seed(0)
    net = ResNet20()
    optimizer = optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    criterion = nn.CrossEntropyLoss()
    x = torch.randn(args.train_batch, 3, 32, 32)
    y = torch.arange(args.train_batch) % 10
    steps = max(1, args.images // args.train_batch)

    def repeat():
        for _ in range(steps):
            train_step(net, criterion, optimizer, x, y)

    rate = [steps * args.train_batch / t for t in sample_seconds(repeat, args.repeats)]
    report(args, "ResNet-20 training step", f"batch {args.train_batch}",
           statistics.median(rate), "images/s", samples=rate, note=f"{steps} steps per repeat")

    net.eval()
    xi = torch.randn(args.infer_batch, 3, 32, 32)
    batches = max(1, args.images // args.infer_batch)

    def infer():
        with torch.no_grad():
            for _ in range(batches):
                net(xi)

    rate = [batches * args.infer_batch / t for t in sample_seconds(infer, args.repeats)]
    report(args, "ResNet-20 inference (eval, no grad)", f"batch {args.infer_batch}",
           statistics.median(rate), "images/s", samples=rate,
           note=f"{batches} batches per repeat")


def main():
    parser = Parser(prog="torch_bench.py", description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True,
                        choices=["lenet", "memory", "cifar", "airfoil", "micro", "resnet"])
    parser.add_argument("--threads", type=positive_int, default=0)
    parser.add_argument("--repeats", type=positive_int, default=5)
    parser.add_argument("--json", action="store_true", help="accepted; output is always JSON")
    parser.add_argument("--batches", type=int_list, default=[4, 32, 64, 256])
    parser.add_argument("--images", type=positive_int, default=4096)
    parser.add_argument("--steps", type=positive_int, default=50)
    parser.add_argument("--train-batch", type=positive_int, default=128)
    parser.add_argument("--infer-batch", type=positive_int, default=256)
    parser.add_argument("--cifar", metavar="DIR")
    parser.add_argument("--epochs", type=positive_int, default=2)
    parser.add_argument("--data", metavar="FILE", default="datasets/airfoil_self_noise.dat")
    args = parser.parse_args()
    if args.workload == "cifar" and not args.cifar:
        parser.error("--workload cifar needs --cifar DIR")
    if args.threads:
        torch.set_num_threads(args.threads)
    meta(args)
    {"lenet": bench_lenet, "memory": bench_memory, "cifar": bench_cifar,
     "airfoil": bench_airfoil, "micro": bench_micro, "resnet": bench_resnet}[args.workload](args)


if __name__ == "__main__":
    main()
