// atomic_file.h with plain POSIX calls: fsync needs the descriptor anyway, and
// stdio's buffer would only add a copy of data that already sits in memory.
// Sequence: remove stale temps -> open temp (O_EXCL) -> write all -> fsync -> close ->
// rename -> fsync dir.
#include <tapegrad/core/atomic_file.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <system_error>

#include <tapegrad/core/error.h>

namespace tg {
namespace {

std::string os_error(int err) { return std::generic_category().message(err); }

// The directory that holds `path`: its entry changes on rename, so it is fsync'ed too.
std::string parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The pid in a temporary's name "<target>.tmp.<pid>.<counter>", or 0 if `name` is not one.
pid_t temp_owner(std::string_view name, std::string_view target) {
  if (!name.starts_with(target) || !name.substr(target.size()).starts_with(".tmp.")) return 0;
  std::string_view rest = name.substr(target.size() + 5);
  size_t dot = rest.find('.');
  if (dot == std::string_view::npos || dot + 1 == rest.size()) return 0;
  auto whole_number = [](std::string_view text, auto& value) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
  };
  pid_t pid = 0;
  uint64_t counter = 0;
  bool ours = whole_number(rest.substr(0, dot), pid) && whole_number(rest.substr(dot + 1), counter);
  return ours && pid > 0 ? pid : 0;
}

// A writer killed mid-write (SIGKILL, power loss) leaves its temporary behind. Before writing
// `target` again, remove the temporaries of `target` whose writer process no longer exists;
// a live writer's (another thread or process saving the same file right now) is left alone.
void remove_stale_temps(const std::string& target) {
  size_t slash = target.find_last_of('/');
  std::string dir = parent_dir(target);
  std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;  // the write itself will report a missing folder
  while (const dirent* entry = ::readdir(d)) {
    pid_t pid = temp_owner(entry->d_name, base);
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH)
      ::unlink((dir + "/" + entry->d_name).c_str());  // best effort: a leftover harms nothing
  }
  ::closedir(d);
}

// The temporary file beside the target. Until commit() it is removed when this goes out of
// scope, so every failure path (including an exception from the producer) cleans up.
class TempFile {
 public:
  explicit TempFile(const std::string& target) : target_(target) {
    // pid + per-process counter: unique among live writers. A stale file of a killed process
    // whose pid was reused makes O_EXCL fail with EEXIST, and we try the next counter value.
    static std::atomic<unsigned> counter{0};
    for (int attempt = 0; attempt < 100; ++attempt) {
      name_ = fmt::format("{}.tmp.{}.{}", target, ::getpid(), counter++);
      fd_ = ::open(name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0 || errno != EEXIST) break;
    }
    if (fd_ < 0) {
      int err = errno;
      name_.clear();  // nothing of ours to remove
      fail("write_file_atomic: cannot create temporary file for '{}': {}", target, os_error(err));
    }
    // Keep the permissions of the file we replace (the new file would otherwise get 0666 & ~umask).
    struct stat old;
    if (::stat(target.c_str(), &old) == 0 && S_ISREG(old.st_mode) &&
        ::fchmod(fd_, old.st_mode & 07777) != 0)
      fail_os("cannot set permissions of");
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!name_.empty()) ::unlink(name_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());  // may write less than asked
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail_os("cannot write");
      bytes.remove_prefix(size_t(n));
    }
  }

  // Makes the data durable, then puts it in place of the target in one atomic step.
  void commit() {
    if (::fsync(fd_) != 0) fail_os("cannot sync");
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail_os("cannot close");  // NFS reports write errors only here
    if (::rename(name_.c_str(), target_.c_str()) != 0) {
      int err = errno;
      fail("write_file_atomic: cannot rename '{}' to '{}': {}", name_, target_, os_error(err));
    }
    name_.clear();  // renamed: nothing left to remove
  }

 private:
  [[noreturn]] void fail_os(const char* what) {
    int err = errno;
    fail("write_file_atomic: {} temporary file '{}' for '{}': {}", what, name_, target_,
         os_error(err));
  }

  std::string target_, name_;
  int fd_ = -1;
};

// Without this a power loss right after rename() may still show the old directory entry.
void sync_directory(const std::string& path) {
  std::string dir = parent_dir(path);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0 && ::fsync(fd) != 0) err = errno;
  if (fd >= 0) ::close(fd);
  // EINVAL: this file system cannot sync directories, and there is nothing more to do.
  check(err == 0 || err == EINVAL,
        "write_file_atomic: wrote '{}' but cannot sync directory '{}': {}", path, dir,
        os_error(err));
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic(path, [bytes](const ByteSink& sink) { sink(bytes); });
}

void write_file_atomic(const std::string& path,
                       const std::function<void(const ByteSink& sink)>& produce) {
  check(!path.empty(), "write_file_atomic: empty path");
  remove_stale_temps(path);
  TempFile temp(path);
  produce([&temp](std::string_view chunk) { temp.write(chunk); });
  temp.commit();
  sync_directory(path);
}

std::string read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    fail("read_file: cannot open '{}': {}", path, os_error(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    fail("read_file: cannot stat '{}': {}", path, os_error(err));
  }
  check(!S_ISDIR(st.st_mode), "read_file: '{}' is a directory, not a file", path);

  // One spare byte past the size so the read that sees EOF needs no reallocation;
  // the loop still grows the buffer if the file grows meanwhile (or is a pipe, size 0).
  std::string bytes(S_ISREG(st.st_mode) ? size_t(st.st_size) + 1 : size_t(65536), '\0');
  size_t got = 0;
  for (;;) {
    if (got == bytes.size()) bytes.resize(2 * bytes.size());
    ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      fail("read_file: cannot read '{}': {}", path, os_error(err));
    }
    if (n == 0) break;
    got += size_t(n);
  }
  bytes.resize(got);
  return bytes;
}

}  // namespace tg
