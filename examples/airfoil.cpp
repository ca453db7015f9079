// The course's chapter-11 study (d2l.ai "Optimization Algorithms"): linear
// regression on the NASA airfoil self-noise data, trained by gradient
// descent, SGD, minibatch SGD, momentum, AdaGrad, RMSProp, Adadelta, Adam and
// Yogi at the course's settings. For each method it prints the final loss on
// the whole data and the seconds per epoch, and writes a CSV log and an SVG
// plot of loss against time (log axis), like the course's figure.
//
// Each method uses the course's settings (its row of kCourseStudy); --optimizer runs one of
// them alone, reseeded like the study so it prints the study's loss, and --batch-size, --lr and
// --epochs change that method's setting.
//
//   build/examples/airfoil --data datasets
//   build/examples/airfoil --data datasets --optimizer adam --batch-size 100 --epochs 4
#include <chrono>
#include <filesystem>

#include <tapegrad/core/atomic_file.h>
#include <tapegrad/data/airfoil.h>
#include <tapegrad/data/dataloader.h>
#include <tapegrad/tapegrad.h>

using namespace tg;
namespace fs = std::filesystem;

namespace {

// One row of the study: which method, at which settings (the course's values).
struct Method {
  std::string name, optimizer;
  int64_t batch_size;
  double lr;
  int64_t epochs;
  double momentum = 0;  // momentum's beta
};

const std::vector<Method> kCourseStudy = {
    {"gd", "sgd", 1500, 1.0, 10},
    {"sgd", "sgd", 1, 0.005, 2},
    {"minibatch-100", "sgd", 100, 0.4, 2},
    {"minibatch-10", "sgd", 10, 0.05, 2},
    {"momentum", "momentum", 10, 0.02, 2, 0.5},
    {"adagrad", "adagrad", 10, 0.1, 2},
    {"rmsprop", "rmsprop", 10, 0.01, 2},
    {"adadelta", "adadelta", 10, 1.0, 2},
    {"adam", "adam", 10, 0.01, 2},
    {"yogi", "yogi", 10, 0.01, 2},
};

// The course's from-scratch update rules, where they differ from PyTorch's defaults.
std::unique_ptr<optim::Optimizer> make_optimizer(const Method& m, std::vector<Tensor> params) {
  if (m.optimizer == "sgd")
    return std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = m.lr});
  if (m.optimizer == "momentum")
    return std::make_unique<optim::SGD>(params,
                                        optim::SGDOptions{.lr = m.lr, .momentum = m.momentum});
  if (m.optimizer == "adagrad")
    return std::make_unique<optim::Adagrad>(
        params, optim::AdagradOptions{.lr = m.lr, .eps = 1e-6, .eps_inside_sqrt = true});
  if (m.optimizer == "rmsprop")
    return std::make_unique<optim::RMSprop>(
        params,
        optim::RMSpropOptions{.lr = m.lr, .alpha = 0.9, .eps = 1e-6, .eps_inside_sqrt = true});
  if (m.optimizer == "adadelta")
    return std::make_unique<optim::Adadelta>(
        params, optim::AdadeltaOptions{.lr = m.lr, .rho = 0.9, .eps = 1e-5});
  if (m.optimizer == "adam")
    return std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = m.lr, .eps = 1e-6});
  if (m.optimizer == "yogi")
    return std::make_unique<optim::Yogi>(params, optim::YogiOptions{.lr = m.lr, .eps = 1e-3});
  fail("airfoil: no update rule named '{}'", m.optimizer);  // kCourseStudy names only these
}

struct Result {
  Method method;
  train::History samples{{"examples", "seconds", "loss"}};  // the loss on the whole data
  double seconds_per_epoch = 0;
};

float full_loss(const Tensor& X, const Tensor& y, const Tensor& w, const Tensor& b) {
  NoGradGuard no_grad;
  return nn::functional::squared_loss(X.matmul(w) + b, y).item();
}

// d2l's train_ch11: w ~ N(0, 0.01), b = 0, loss = half squared error averaged over the
// minibatch; the loss on the whole data is recorded every 200 examples, off the clock.
Result train(const Method& m, const Tensor& X, const Tensor& y) {
  Tensor w = randn({X.size(1), 1}).mul_(0.01f).requires_grad_();
  Tensor b = zeros({1}, {.requires_grad = true});
  auto opt = make_optimizer(m, {w, b});
  auto dataset = std::make_shared<data::TensorDataset>(X, y);
  data::DataLoader loader(dataset, {.batch_size = m.batch_size, .shuffle = true});
  Result r{.method = m};
  r.samples.append({0, 0, full_loss(X, y, w, b)});
  double seconds = 0;
  int64_t seen = 0;
  auto start = std::chrono::steady_clock::now();
  for (int64_t epoch = 0; epoch < m.epochs; ++epoch) {
    for (auto [xb, yb] : loader) {
      Tensor loss = nn::functional::squared_loss(xb.matmul(w) + b, yb);
      opt->zero_grad();
      loss.backward();
      opt->step();
      seen += xb.size(0);
      if (seen % 200 == 0) {
        auto now = std::chrono::steady_clock::now();
        seconds += std::chrono::duration<double>(now - start).count();
        r.samples.append({double(seen), seconds, full_loss(X, y, w, b)});
        start = std::chrono::steady_clock::now();
      }
    }
  }
  seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (r.samples.column("examples").back() != double(seen))
    r.samples.append({double(seen), seconds, full_loss(X, y, w, b)});
  r.seconds_per_epoch = seconds / double(m.epochs);
  return r;
}

// The least-squares floor: solve the normal equations [X 1]^T [X 1] theta = [X 1]^T y (double).
double closed_form_loss(const Tensor& X, const Tensor& y) {
  int64_t n = X.size(0), d = X.size(1) + 1;
  std::vector<float> xs = X.to_vector(), ys = y.to_vector();
  std::vector<double> a(size_t(d * (d + 1)), 0.0);  // augmented [A | r]
  for (int64_t i = 0; i < n; ++i) {
    auto feature = [&](int64_t j) { return j < d - 1 ? double(xs[size_t(i * (d - 1) + j)]) : 1.0; };
    for (int64_t j = 0; j < d; ++j) {
      for (int64_t k = 0; k < d; ++k) a[size_t(j * (d + 1) + k)] += feature(j) * feature(k);
      a[size_t(j * (d + 1) + d)] += feature(j) * ys[size_t(i)];
    }
  }
  for (int64_t c = 0; c < d; ++c)  // Gauss-Jordan; X^T X is positive definite here
    for (int64_t r = 0; r < d; ++r) {
      if (r == c) continue;
      double f = a[size_t(r * (d + 1) + c)] / a[size_t(c * (d + 1) + c)];
      for (int64_t k = c; k <= d; ++k) a[size_t(r * (d + 1) + k)] -= f * a[size_t(c * (d + 1) + k)];
    }
  double loss = 0;
  for (int64_t i = 0; i < n; ++i) {
    double pred = a[size_t((d - 1) * (d + 1) + d)] / a[size_t((d - 1) * (d + 1) + d - 1)];
    for (int64_t j = 0; j < d - 1; ++j)
      pred += xs[size_t(i * (d - 1) + j)] * a[size_t(j * (d + 1) + d)] / a[size_t(j * (d + 1) + j)];
    loss += 0.5 * (pred - ys[size_t(i)]) * (pred - ys[size_t(i)]);
  }
  return loss / double(n);
}

// airfoil.csv (every method's samples) and airfoil_loss.svg (loss against time, log axis).
void write_outputs(const std::vector<Result>& results, const fs::path& out) {
  fs::create_directories(out);
  std::vector<std::pair<std::string, train::History>> runs;
  plot::LineChart chart{.title = "Airfoil linear regression: loss against time",
                        .x = {.label = "seconds", .log = true},
                        .y = {.label = "loss (whole data)"}};
  for (const Result& r : results) {
    runs.emplace_back(r.method.name, r.samples);
    chart.series.push_back(r.samples.series("seconds", "loss", r.method.name));
  }
  write_file_atomic((out / "airfoil.csv").string(), train::to_csv("method", runs));
  plot::write_svg(chart, out / "airfoil_loss.svg");
  fmt::print("wrote {} and {}\n", (out / "airfoil.csv").string(),
             (out / "airfoil_loss.svg").string());
}

fs::path find_data(const std::string& given) {
  fs::path p = given;
  if (fs::is_directory(p)) p /= "airfoil_self_noise.dat";
  if (!fs::exists(p))
    fail(
        "{} not found; fetch it with `scripts/fetch-data.sh airfoil` (or pass --data PATH to a "
        "copy)",
        p.string());
  return p;
}

int run(int argc, char** argv) {
  std::string data = "datasets", out = "results", optimizer;
  int64_t batch_size = 0, epochs = 0, rows = 1500, seed = 0, threads = 0;
  double lr = 0;
  std::vector<std::string> names;
  for (const Method& m : kCourseStudy) names.push_back(m.name);
  train::ArgParser cli("airfoil",
                       "The course's chapter-11 study of optimizers on the airfoil data.");
  cli.add("data", data, "airfoil_self_noise.dat or its folder").metavar("PATH");
  cli.add("out", out, "folder for the CSV log and the SVG plot").metavar("DIR");
  cli.add("optimizer", optimizer, "run only this method of the study")
      .choices(names)
      .default_text("all");
  cli.add("batch-size", batch_size, "mini-batch size").min(1).default_text("the method's");
  cli.add("lr", lr, "learning rate").above(0).default_text("the method's");
  cli.add("epochs", epochs, "passes over the data").min(1).default_text("the method's");
  cli.add("rows", rows, "rows of the table to train on").min(1);
  cli.add("seed", seed, "random seed, set before each method").min(0);
  cli.add("threads", threads, "threads; 0: the default").min(0);
  cli.parse(argc, argv);
  if (threads > 0) set_num_threads(int(threads));

  // The course standardises all 1503 rows, then keeps the first 1500.
  data::Table table = data::read_airfoil(find_data(data).string());
  data::standardize_columns(table);
  Tensor all = tensor(table.values, table.shape()).narrow(0, 0, std::min(rows, table.rows));
  Tensor X = all.narrow(1, 0, 5).contiguous(), y = all.narrow(1, 5, 1).contiguous();
  fmt::print("airfoil: {} examples, {} features\n", X.size(0), X.size(1));

  // The whole study, or one method (--optimizer; minibatch-10 when only its settings are given)
  // with the course's settings except those given.
  std::vector<Method> methods = kCourseStudy;
  if (cli.given("optimizer") || cli.given("batch-size") || cli.given("lr") || cli.given("epochs")) {
    std::string name = optimizer.empty() ? "minibatch-10" : optimizer;
    Method m = *std::find_if(methods.begin(), methods.end(),
                             [&](const Method& c) { return c.name == name; });
    if (cli.given("batch-size")) m.batch_size = batch_size;
    if (cli.given("lr")) m.lr = lr;
    if (cli.given("epochs")) m.epochs = epochs;
    methods = {m};
  }
  std::vector<Result> results;
  fmt::print("{:<15} {:>6} {:>7} {:>7} {:>10} {:>12}\n", "method", "batch", "lr", "epochs", "loss",
             "sec/epoch");
  for (const Method& m : methods) {
    manual_seed(uint64_t(seed));  // each method from the same start: one alone prints its study row
    Result r = train(m, X, y);
    fmt::print("{:<15} {:>6} {:>7} {:>7} {:>10.4f} {:>12.5f}\n", m.name, m.batch_size, m.lr,
               m.epochs, r.samples.column("loss").back(), r.seconds_per_epoch);
    results.push_back(r);
  }
  fmt::print("{:<15} {:>34.4f}   (closed-form least squares: the floor)\n", "normal-equations",
             closed_form_loss(X, y));
  write_outputs(results, out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return train::guarded_main("airfoil", run, argc, argv); }
