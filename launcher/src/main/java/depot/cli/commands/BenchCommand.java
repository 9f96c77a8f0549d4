package depot.cli.commands;

import depot.cli.ApiClient;
import depot.cli.ExpectContinueUpload;
import depot.cli.CliContext;
import depot.cli.CliException;
import depot.cli.Downloader;
import depot.cli.CommandBase;
import depot.cli.DepotCli;
import depot.cli.HashingWriter;
import depot.cli.Sha256;
import depot.cli.UploadBody;
import depot.cli.SizeParser;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Load generator. Registers C fresh clients, which deposit N files in total, each client one file at a time
 * (contents held in memory from one event loop, larger ones from a thread per client), optionally retrieve
 * them all, and the figures of each phase are printed as one greppable line (or one JSON object).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measure deposit (and retrieval) throughput and latency with concurrent clients.")
public final class BenchCommand extends CommandBase {
  /** Up to this size a file's content is built in memory, so its SHA-256 is known before sending. */
  static final long IN_MEMORY_LIMIT = 8L << 20;

  @Option(names = "--clients", paramLabel = "C", defaultValue = "4", description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
  int clients;

  @Option(names = "--files", paramLabel = "N", defaultValue = "100", description = "Files in total (default: ${DEFAULT-VALUE}).")
  int files;

  @Option(names = "--size", paramLabel = "S", defaultValue = "64KiB", converter = SizeParser.class,
      description = "Size of each file: 4096, 4KiB, 1MiB, 1G... (default: ${DEFAULT-VALUE}).")
  long size;

  @Option(names = "--replicas", paramLabel = "R", description = "Replicas per file (default: the server's).")
  Integer replicas;

  @Option(names = "--retrieve", description = "Afterwards, retrieve every file and check it (see --check).")
  boolean retrieve;

  /** How a retrieve checks what it receives. Lower case: picocli matches the words as typed. */
  enum Check { sha256, chunks }

  @Option(names = "--check", paramLabel = "HOW", defaultValue = "sha256",
      description = "How --retrieve checks each file: sha256 (its whole SHA-256, as `retrieve` does) or chunks "
          + "(every chunk against its CRC32C, as storage nodes check every read: by this client where it reads "
          + "a replica's file on this host, else by the node before sending) (default: ${DEFAULT-VALUE}).")
  Check check;

  @Option(names = "--drop-caches", description = "Before retrieving, flush and drop the OS page cache (root, "
      + "Linux), so reads come from the disks: the cold-read figure.")
  boolean dropCaches;

  @Option(names = "--warmup", paramLabel = "K", defaultValue = "0",
      description = "Deposit K extra files first, not measured; with --retrieve, retrieve them too before the "
          + "measured retrieves (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--seed", paramLabel = "SEED", description = "Seed of the generated contents (default: random).")
  Long seed;

  @Option(names = "--cleanup", description = "Delete the bench files at the end (not measured).")
  boolean cleanup;

  @Option(names = "--json", description = "Print the figures as one JSON object.")
  boolean json;

  /** Bytes of the measured retrieves read from replica files on this host ({@code LocalReplica}). */
  private final AtomicLong readLocally = new AtomicLong();

  /** Expected SHA-256 of the files whose content was hashed before deposit, by name. */
  private final Map<String, String> knownSha256 = new ConcurrentHashMap<>();

  public BenchCommand(CliContext ctx) {
    super(ctx);
  }

  /** One request of a phase: {@code prepare} is untimed (content generation), the returned action is timed. */
  @FunctionalInterface
  private interface FileOp {
    Callable<Long> prepare(int client, int file) throws Exception;
  }

  @Override
  protected void execute() throws Exception {
    validate();
    long runSeed = seed != null ? seed : new SecureRandom().nextLong();
    ExecutorService httpPool = Executors.newFixedThreadPool(clients, daemonThreads("depot-bench-http"));
    ExecutorService workers = Executors.newFixedThreadPool(clients, daemonThreads("depot-bench-worker"));
    try {
      ApiClient anonymous = new ApiClient(ApiClient.newHttpClient(httpPool), server(), null);
      List<ApiClient> identities = register(anonymous, workers, runSeed);

      BenchContent warmupContent = new BenchContent(~runSeed);
      BenchContent content = new BenchContent(runSeed);
      BenchReport deposits = size <= IN_MEMORY_LIMIT
          ? depositInMemory(workers, identities, warmupContent, content)
          : depositStreamed(workers, identities, warmupContent, content);
      if (retrieve && warmup > 0) {
        // Not measured, and before the page cache is dropped: the retrieve path's code gets loaded and compiled
        // here, as the deposit path's does by the warm-up deposits, not while a measured retrieve waits for it.
        BenchReport warm = runPhase("warmup", workers, warmup, (c, j) -> retrieve(identities.get(c), warmupName(c, j)));
        if (warm.errors() > 0) {
          throw new CliException("bench: warm-up retrieve failed: " + warm.firstError());
        }
      }
      if (retrieve && dropCaches) {
        dropPageCache();
      }
      readLocally.set(0);
      BenchReport retrievals = retrieve
          ? runPhase("retrieve", workers, files, (c, j) -> retrieve(identities.get(c), name(c, j)))
          : null;
      if (cleanup) {
        cleanup(workers, identities);
      }
      print(deposits, retrievals);

      long errors = deposits.errors() + (retrievals == null ? 0 : retrievals.errors());
      if (errors > 0) {
        String first = deposits.firstError() != null ? deposits.firstError() : retrievals.firstError();
        throw new CliException("bench: " + errors + " request(s) failed; first error: " + first);
      }
    } finally {
      workers.shutdownNow();
      httpPool.shutdownNow();
    }
  }

  private void validate() {
    if (clients < 1) {
      throw new CliException("--clients must be at least 1", 2, null);
    }
    if (files < 1) {
      throw new CliException("--files must be at least 1", 2, null);
    }
    if (size < 0) {
      throw new CliException("--size must not be negative", 2, null);
    }
    if (warmup < 0) {
      throw new CliException("--warmup must not be negative", 2, null);
    }
    if (replicas != null && replicas < 1) {
      throw new CliException("--replicas must be at least 1", 2, null);
    }
  }

  static String name(int client, int file) {
    return "bench-" + client + "-" + file;
  }

  static String warmupName(int client, int file) {
    return "bench-warmup-" + client + "-" + file;
  }

  /** How many of {@code total} files client {@code client} handles: an even split, first ones take the rest. */
  static int share(int total, int clients, int client) {
    return total / clients + (client < total % clients ? 1 : 0);
  }

  /** One fresh client per worker, so each has its own files and token, like independent users. */
  private List<ApiClient> register(ApiClient anonymous, ExecutorService workers, long runSeed) throws Exception {
    String prefix = "bench-" + Long.toHexString(runSeed ^ System.nanoTime()).substring(0, 6);
    List<Future<ApiClient>> registrations = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      String nickname = prefix + "-" + i;
      registrations.add(workers.submit(() -> {
        HttpRequest request = anonymous.request(ApiClient.CLIENTS)
            .header("Content-Type", "application/json")
            .POST(BodyPublishers.ofString(new JsonObject().put("nickname", nickname).encode()))
            .build();
        String token = anonymous.sendForJson(request).getString("token");
        if (token == null) {
          throw new CliException("no token in the server's answer");
        }
        return anonymous.withToken(token);
      }));
    }
    List<ApiClient> identities = new ArrayList<>();
    for (Future<ApiClient> registration : registrations) {
      try {
        identities.add(registration.get());
      } catch (ExecutionException e) {
        throw new CliException("bench: cannot register a client: " + DepotCli.describe(e.getCause()), e.getCause());
      }
    }
    return identities;
  }

  private BenchReport runPhase(String phase, ExecutorService workers, int total, FileOp op) throws Exception {
    BenchReport report = new BenchReport(phase);
    List<Future<?>> running = new ArrayList<>();
    long start = System.nanoTime();
    for (int c = 0; c < clients; c++) {
      int client = c;
      int count = share(total, clients, c);
      running.add(workers.submit(() -> {
        for (int j = 0; j < count && !Thread.currentThread().isInterrupted(); j++) {
          try {
            Callable<Long> action = op.prepare(client, j);
            long t0 = System.nanoTime();
            long bytes = action.call();
            report.success(System.nanoTime() - t0, bytes);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } catch (Exception e) {
            report.error(DepotCli.describe(e));
          }
        }
      }));
    }
    for (Future<?> f : running) {
      f.get();
    }
    report.finish(System.nanoTime() - start);
    return report;
  }

  /**
   * Contents hashed ahead ({@link #hashAhead}), then built again in memory as each is sent, from one event loop.
   * The load generator shares the cores with the cluster: hashing while the clock runs would measure it too.
   */
  private BenchReport depositInMemory(ExecutorService workers, List<ApiClient> identities, BenchContent warmupContent,
                                      BenchContent content) throws Exception {
    hashAhead(workers, warmup, warmupContent, BenchCommand::warmupName);
    hashAhead(workers, files, content, BenchCommand::name);
    try (EventLoopDeposits driver = new EventLoopDeposits(clients, "https".equals(server().getScheme()), size)) {
      if (warmup > 0) {
        driver.run("warmup", clients, c -> share(warmup, clients, c),
            (c, j) -> inMemory(identities.get(c), warmupName(c, j), warmupContent, c, j));
      }
      return driver.run("deposit", clients, c -> share(files, clients, c),
          (c, j) -> inMemory(identities.get(c), name(c, j), content, c, j));
    }
  }

  private EventLoopDeposits.Deposit inMemory(ApiClient api, String name, BenchContent content, int client, int file) {
    byte[] data = content.bytes(client, file, (int) size);
    String sha256 = knownSha256.get(name);
    // No Expect: 100-continue here: contents are unique, so the server always wants the body.
    return new EventLoopDeposits.Deposit(api.base() + ApiClient.filePath(name)
        + (replicas == null ? "" : "?replicas=" + replicas), api.token(), data, sha256);
  }

  private BenchReport depositStreamed(ExecutorService workers, List<ApiClient> identities, BenchContent warmupContent,
                                      BenchContent content) throws Exception {
    hashAhead(workers, warmup, warmupContent, BenchCommand::warmupName);
    hashAhead(workers, files, content, BenchCommand::name);
    if (warmup > 0) {
      runPhase("warmup", workers, warmup, (c, j) -> streamed(identities.get(c), warmupName(c, j), warmupContent, c, j));
    }
    return runPhase("deposit", workers, files, (c, j) -> streamed(identities.get(c), name(c, j), content, c, j));
  }

  /** Too big to hold: hashed ahead ({@link #hashAhead}), then generated again and streamed as the CLI uploads. */
  private Callable<Long> streamed(ApiClient api, String name, BenchContent content, int client, int file) {
    String sha256 = knownSha256.get(name);
    String path = ApiClient.filePath(name) + (replicas == null ? "" : "?replicas=" + replicas);
    return () -> {
      ExpectContinueUpload.Response response = api.putExpectingContinue(path,
          Map.of("Content-Type", "application/octet-stream", ApiClient.SHA256_HEADER, sha256),
          UploadBody.ofStream(size, () -> content.stream(client, file, size)), true);
      ApiClient.requireSuccess(response.status(), response.body());
      return size;
    };
  }

  /**
   * Hashes the generated contents before any clock starts (only the hashes are kept): `depot deposit` hashes
   * a file before it uploads, and that is the client's own work, not the deposit's.
   */
  private void hashAhead(ExecutorService workers, int total, BenchContent content,
                         BiFunction<Integer, Integer, String> naming) throws Exception {
    List<Future<?>> hashing = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      int count = share(total, clients, c);
      hashing.add(workers.submit(() -> {
        for (int j = 0; j < count; j++) {
          try (InputStream generated = content.stream(client, j, size)) {
            knownSha256.put(naming.apply(client, j),
                Sha256.copy(generated, OutputStream.nullOutputStream(), n -> { }).sha256());
          }
        }
        return null;
      }));
    }
    for (Future<?> f : hashing) {
      f.get();
    }
  }

  /**
   * Retrieves as the CLI does (a replica's file on this host, else direct from a storage node, the gateway as
   * fallback), discarding the bytes.
   */
  private Callable<Long> retrieve(ApiClient api, String name) {
    return () -> {
      if (check == Check.chunks) {
        // Checked chunk by chunk on the way (LocalReplica, or the storage node): here only the count is left.
        Downloader.Download download = Downloader.fetch(null, api, name, HashingWriter.unhashed(DISCARD));
        readLocally.addAndGet(download.readLocally());
        long received = download.received().bytes();
        if (received != size) {
          throw new CliException("retrieve " + name + ": got " + received + " bytes, expected " + size);
        }
        return received;
      }
      Downloader.Download download = Downloader.fetch(null, api, name, DISCARD, n -> { });
      readLocally.addAndGet(download.readLocally());
      Sha256.Copied copied = download.received();
      String announced = download.expectedSha256();
      if (announced == null) {
        throw new CliException("retrieve " + name + ": no SHA-256 header in the answer");
      }
      if (!announced.equals(copied.sha256())) {
        throw new CliException("retrieve " + name + ": checksum mismatch with the announced SHA-256");
      }
      String deposited = knownSha256.get(name);
      if (deposited != null && !deposited.equals(copied.sha256())) {
        throw new CliException("retrieve " + name + ": content differs from what was deposited");
      }
      if (copied.bytes() != size) {
        throw new CliException("retrieve " + name + ": got " + copied.bytes() + " bytes, expected " + size);
      }
      return copied.bytes();
    };
  }

  /** {@code sync; echo 3 > /proc/sys/vm/drop_caches}: what "cold" means for the retrieve figures. */
  private void dropPageCache() throws Exception {
    new ProcessBuilder("sync").inheritIO().start().waitFor();
    try {
      java.nio.file.Files.writeString(java.nio.file.Path.of("/proc/sys/vm/drop_caches"), "3");
    } catch (java.io.IOException e) {
      throw new CliException("--drop-caches needs root on Linux: " + e.getMessage());
    }
  }

  /** A sink that only counts: bench measures the transfer, not the local disk. */
  private static final java.nio.channels.WritableByteChannel DISCARD = new java.nio.channels.WritableByteChannel() {
    @Override
    public int write(java.nio.ByteBuffer src) {
      int n = src.remaining();
      src.position(src.limit());
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {
    }
  };

  private void cleanup(ExecutorService workers, List<ApiClient> identities) throws Exception {
    List<BenchReport> reports = new ArrayList<>();
    reports.add(runPhase("cleanup", workers, files, delete(identities, BenchCommand::name)));
    if (warmup > 0) {
      reports.add(runPhase("cleanup", workers, warmup, delete(identities, BenchCommand::warmupName)));
    }
    reports.stream().filter(r -> r.errors() > 0).findFirst().ifPresent(r ->
        ctx.err().println("depot: warning: cleanup could not delete some files: " + r.firstError()));
  }

  private static FileOp delete(List<ApiClient> identities, BiFunction<Integer, Integer, String> naming) {
    return (c, j) -> () -> {
      ApiClient api = identities.get(c);
      api.requireSuccess(api.send(api.request(ApiClient.filePath(naming.apply(c, j))).DELETE().build(),
          HttpResponse.BodyHandlers.ofString()));
      return 0L;
    };
  }

  private void print(BenchReport deposits, BenchReport retrievals) {
    if (json) {
      JsonObject figures = new JsonObject()
          .put("server", server().toString())
          .put("clients", clients)
          .put("files", files)
          .put("size", size)
          .put("replicas", replicas)
          .put("deposit", deposits.toJson());
      if (retrievals != null) {
        figures.put("retrieve", retrievals.toJson().put("readLocallyBytes", readLocally.get()));
      }
      ctx.out().println(figures.encode());
      return;
    }
    ctx.out().println("bench: server=" + server() + " clients=" + clients + " files=" + files + " size=" + size
        + " replicas=" + (replicas == null ? "default" : replicas));
    ctx.out().println(deposits.line());
    if (retrievals != null) {
      ctx.out().println(retrievals.line());
      ctx.out().println("read locally: " + readLocally.get() + " of the bytes retrieved came straight from replica"
          + " files on this host (" + check + " checked)");
    }
  }

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger counter = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + "-" + counter.incrementAndGet());
      thread.setDaemon(true); // never keep the JVM alive after the report
      return thread;
    };
  }
}
