package depot.storage;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replica written to a real disk, through O_DIRECT where the data folder allows it (the project's
 * target folder, on the machine's disk) and through the page cache otherwise: the bytes that land are the
 * bytes sent, whatever the size and however the stream is cut, and a failed write leaves nothing behind.
 */
class BlobWriterTest {
  private static final int KiB = 1024;
  private static final int MiB = 1024 * KiB;
  private static final long SMALL_BLOB_MAX = 256 * KiB;

  private Vertx vertx;
  @TempDir(factory = OnBuildDisk.class)
  Path dataDir;

  @BeforeEach
  void start() throws IOException {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private BlobStore openStore() throws Exception {
    BlobStore store = new BlobStore(vertx, dataDir);
    await(store.open());
    return store;
  }

  private BlobWriter writer(BlobStore store, long directIoBufferBytes) {
    return new BlobWriter(vertx, store, vertx.createHttpClient(), "node-a", 64 * KiB, SMALL_BLOB_MAX, "",
        directIoBufferBytes);
  }

  private static byte[] content(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static String newBlobId() {
    return java.util.UUID.randomUUID().toString();
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {300 * 1024 + 7, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1, 13 * 1024 * 1024 + 123})
  void storesExactlyTheBytesSent(int size) throws Exception {
    BlobStore store = openStore();
    for (long directBytes : new long[] {48L * MiB, 0}) {
      byte[] data = content(size, size + directBytes);
      String blobId = newBlobId();
      Pieces source = new Pieces(vertx, data, new Random(size), 0);
      io.vertx.core.json.JsonObject result = await(runOnContext(
          () -> writer(store, directBytes).write(source, blobId, size, List.of())));
      assertEquals(sha256(data), result.getString("sha256"));
      assertArrayEquals(data, Files.readAllBytes(Path.of(store.dataPath(blobId))), "direct bytes " + directBytes);
      assertEquals(size, Files.size(Path.of(store.dataPath(blobId))), "the padding of the last block is cut off");
    }
    assertTempEmpty();
  }

  @Test
  void directIoIsUsedOnTheBuildDisk() throws Exception {
    BlobStore store = openStore();
    org.junit.jupiter.api.Assumptions.assumeTrue(store.directIoAlignment() > 0,
        "the file system under target/ refuses O_DIRECT");
    assertEquals(0, store.directIoAlignment() % 4096);
  }

  @Test
  void writesBeyondThePoolFallBackToThePageCache() throws Exception {
    BlobStore store = openStore();
    // Room for one direct write of three buffers: the second concurrent write goes through the page cache.
    BlobWriter writer = writer(store, 12L * MiB);
    byte[] a = content(9 * MiB + 5, 1);
    byte[] b = content(9 * MiB + 9, 2);
    String idA = newBlobId();
    String idB = newBlobId();
    await(runOnContext(() -> Future.all(
        writer.write(new Pieces(vertx, a, new Random(1), 0), idA, a.length, List.of()),
        writer.write(new Pieces(vertx, b, new Random(2), 0), idB, b.length, List.of()))));
    assertArrayEquals(a, Files.readAllBytes(Path.of(store.dataPath(idA))));
    assertArrayEquals(b, Files.readAllBytes(Path.of(store.dataPath(idB))));
    // And the pool's buffers came back: a third write finds them.
    byte[] c = content(5 * MiB, 3);
    String idC = newBlobId();
    await(runOnContext(() -> writer.write(new Pieces(vertx, c, new Random(3), 0), idC, c.length, List.of())));
    assertArrayEquals(c, Files.readAllBytes(Path.of(store.dataPath(idC))));
  }

  @Test
  void aSenderThatFailsMidwayLeavesNothing() throws Exception {
    BlobStore store = openStore();
    byte[] data = content(10 * MiB, 7);
    String blobId = newBlobId();
    Pieces source = new Pieces(vertx, data, new Random(7), 6 * MiB);
    Exception failure = assertThrows(Exception.class, () -> await(runOnContext(
        () -> writer(store, 48L * MiB).write(source, blobId, data.length, List.of()))));
    assertTrue(String.valueOf(failure.getMessage()).contains("connection reset"), failure.toString());
    assertFalse(store.has(blobId));
    assertFalse(Files.exists(Path.of(store.dataPath(blobId))));
    // The temp file is removed once the last write returns.
    long deadline = System.currentTimeMillis() + 5000;
    while (!tempEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    assertTempEmpty();
  }

  @Test
  void moreBytesThanAnnouncedIsRefused() throws Exception {
    BlobStore store = openStore();
    byte[] data = content(6 * MiB, 9);
    String blobId = newBlobId();
    assertThrows(Exception.class, () -> await(runOnContext(
        () -> writer(store, 48L * MiB).write(new Pieces(vertx, data, new Random(9), 0), blobId, data.length - 1, List.of()))));
    assertFalse(store.has(blobId));
  }

  @Test
  void aRefusedNextHopDoesNotLoseTheBodyThatAlreadyArrived() throws Exception {
    BlobStore store = openStore();
    int closedPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    for (int size : new int[] {100 * KiB, 3 * MiB}) { // a packed replica and a direct one
      byte[] data = content(size, size);
      Pieces source = new Pieces(vertx, data, new Random(4), 0);
      source.h1Semantics = true;
      String blobId = newBlobId();
      io.vertx.core.json.JsonObject result = await(runOnContext(() -> writer(store, 48L * MiB).write(source, blobId,
          size, List.of(new PipelineHop("gone", "http://127.0.0.1:" + closedPort)))));
      assertEquals(1, result.getJsonArray("stored").size(), result.encode());
      assertEquals("gone", result.getJsonArray("failed").getJsonObject(0).getString("node"));
      assertEquals(sha256(data), result.getString("sha256"));
    }
  }

  /**
   * A next hop that accepts and resets while this node's file is still opening (the disk's thread held
   * here): the head must answer at once that the write quorum is lost, not wait for the rest of the body.
   * Its failed report used to come back inside the transfer's start, before the transfer counted as
   * started, and the head then waited for all 256 MiB.
   */
  @Test
  void aNextHopLostWhileTheFileOpensFailsTheHeadAtOnce() throws Exception {
    Vertx slowDisk = Vertx.vertx(new io.vertx.core.VertxOptions().setInternalBlockingPoolSize(1));
    CountDownLatch diskHeld = new CountDownLatch(1);
    try (java.net.ServerSocket ghost = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      AtomicInteger resets = new AtomicInteger();
      Thread acceptor = new Thread(() -> {
        while (true) {
          try (java.net.Socket s = ghost.accept()) {
            Thread.sleep(100); // long enough for the head to have its request to this hop in hand
            s.setSoLinger(true, 0); // a reset on close, like a killed process's socket
          } catch (IOException | InterruptedException e) {
            return;
          }
          resets.incrementAndGet();
        }
      }, "ghost-hop");
      acceptor.setDaemon(true);
      acceptor.start();
      BlobStore store = new BlobStore(slowDisk, dataDir);
      await(store.open());
      BlobWriter writer = new BlobWriter(slowDisk, store, slowDisk.createHttpClient(), "node-a", 64 * KiB,
          SMALL_BLOB_MAX, "", 0);
      io.vertx.core.internal.ContextInternal ctx = (io.vertx.core.internal.ContextInternal) slowDisk.getOrCreateContext();
      io.vertx.core.Promise<io.vertx.core.json.JsonObject> written = io.vertx.core.Promise.promise();
      Pieces source = new Pieces(slowDisk, content(MiB, 11), new Random(11), 0);
      source.stallsAtEnd = true; // a sender whose body never finishes
      ctx.runOnContext(v -> {
        ctx.executeBlockingInternal(() -> diskHeld.await(20, TimeUnit.SECONDS));
        writer.write(source, newBlobId(), 256L * MiB,
                List.of(new PipelineHop("ghost", "http://127.0.0.1:" + ghost.getLocalPort())), null, false, 2)
            .onComplete(written);
      });
      long deadline = System.currentTimeMillis() + 10_000;
      while (resets.get() == 0 && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(1, resets.get(), "the head opened its next hop while its file was opening");
      Thread.sleep(300); // the reset reaches the head's event loop
      diskHeld.countDown();
      ExecutionException failure = assertThrows(ExecutionException.class,
          () -> written.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
      assertTrue(String.valueOf(failure.getCause().getMessage()).contains("replicas required"), failure.toString());
      assertEquals(0, source.offset, "answered before any of the body was taken");
    } finally {
      diskHeld.countDown();
      slowDisk.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private <T> Future<T> runOnContext(java.util.function.Supplier<Future<T>> action) {
    io.vertx.core.Promise<T> promise = io.vertx.core.Promise.promise();
    vertx.runOnContext(v -> action.get().onComplete(promise));
    return promise.future();
  }

  private boolean tempEmpty() throws IOException {
    try (Stream<Path> left = Files.list(dataDir.resolve("tmp"))) {
      return left.findAny().isEmpty();
    }
  }

  private void assertTempEmpty() throws IOException {
    try (Stream<Path> left = Files.list(dataDir.resolve("tmp"))) {
      assertEquals(List.of(), left.toList(), "no temp file may outlive its write");
    }
  }

  /**
   * The content cut into random pieces of 1 byte to 256 KiB (what an HTTP body looks like), emitted only
   * while not paused; optionally fails after {@code failAfter} bytes, like a sender that hangs up.
   */
  private static final class Pieces implements ReadStream<Buffer> {
    private final Vertx vertx;
    private final byte[] data;
    private final Random random;
    private final int failAfter;
    private int offset;
    private boolean paused = true;
    private boolean scheduled;
    private Handler<Buffer> handler;
    private Handler<Void> endHandler;
    private Handler<Throwable> exceptionHandler;
    /** Behave like a Vert.x HTTP request whose whole body has already arrived. */
    boolean h1Semantics;
    /** Send the content and then nothing more: no end, as from a sender that stopped midway. */
    boolean stallsAtEnd;
    private boolean droppedUnread;

    Pieces(Vertx vertx, byte[] data, Random random, int failAfter) {
      this.vertx = vertx;
      this.data = data;
      this.random = random;
      this.failAfter = failAfter;
    }

    @Override
    public Pieces exceptionHandler(Handler<Throwable> h) {
      exceptionHandler = h;
      return this;
    }

    @Override
    public Pieces handler(Handler<Buffer> h) {
      if (droppedUnread) {
        throw new IllegalStateException("Request has already been read"); // as Vert.x's HTTP request says
      }
      handler = h;
      return this;
    }

    @Override
    public Pieces pause() {
      paused = true;
      return this;
    }

    @Override
    public Pieces resume() {
      if (handler == null && h1Semantics) {
        // An HTTP request resumed before anyone listens delivers its queued body to nobody.
        droppedUnread = true;
        offset = data.length;
        return this;
      }
      paused = false;
      schedule();
      return this;
    }

    @Override
    public Pieces fetch(long amount) {
      return resume();
    }

    @Override
    public Pieces endHandler(Handler<Void> h) {
      endHandler = h;
      return this;
    }

    private void schedule() {
      if (!scheduled) {
        scheduled = true;
        vertx.runOnContext(v -> {
          scheduled = false;
          emit();
        });
      }
    }

    private void emit() {
      // A few pieces per round, then yield: disk writes complete between rounds, as with a real socket.
      for (int round = 0; round < 8 && !paused && handler != null; round++) {
        if (failAfter > 0 && offset >= failAfter) {
          paused = true;
          exceptionHandler.handle(new IOException("connection reset"));
          return;
        }
        if (offset == data.length) {
          paused = true;
          if (!stallsAtEnd) {
            endHandler.handle(null);
          }
          return;
        }
        int n = Math.min(data.length - offset, 1 + random.nextInt(256 * KiB));
        handler.handle(Buffer.buffer(java.util.Arrays.copyOfRange(data, offset, offset + n)));
        offset += n;
      }
      if (!paused) {
        schedule();
      }
    }
  }
}
