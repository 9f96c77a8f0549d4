package depot.storage;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.streams.WriteStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replicas written to a real disk the way a storage node writes them and read back through {@link BlobReader}:
 * exactly the bytes of the range asked for, whatever chunks it starts and ends in, and never a byte of a corrupt
 * chunk, with what came before it intact.
 */
class BlobReaderTest {
  private static final int MiB = 1024 * 1024;
  private static final int CHUNK = 64 * 1024;

  private Vertx vertx;
  @TempDir(factory = OnBuildDisk.class)
  Path dataDir;
  /** Where the contents to store are written first: outside the store's own folder. */
  @TempDir
  Path sources;
  private BlobStore store;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    store = new BlobStore(vertx, dataDir);
    await(store.open());
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private <T> Future<T> onContext(Supplier<Future<T>> action) {
    io.vertx.core.Promise<T> promise = io.vertx.core.Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> action.get().onComplete(promise));
    return promise.future();
  }

  /** Stores {@code data} as a replica the way a storage node does, and returns its manifest. */
  private BlobManifest storeReplica(byte[] data) throws Exception {
    Path source = Files.write(sources.resolve(UUID.randomUUID().toString()), data);
    String blobId = UUID.randomUUID().toString();
    BlobWriter writer = new BlobWriter(vertx, store, vertx.createHttpClient(), "node-a", CHUNK, 256 * 1024, "",
        48L * MiB);
    await(onContext(() -> vertx.fileSystem().open(source.toString(), new OpenOptions().setRead(true))
        .compose(file -> writer.write(file, blobId, data.length, List.of()))));
    Files.delete(source);
    return await(store.manifest(blobId));
  }

  private static byte[] content(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  @Test
  void sendsExactlyTheRangeAskedFor() throws Exception {
    byte[] data = content(5 * MiB + 123, 1);
    BlobManifest manifest = storeReplica(data);
    BlobReader reader = new BlobReader(vertx, store);
    long[][] ranges = {
        {0, data.length - 1},                     // the whole replica, to its short last chunk
        {CHUNK + 17, 4L * MiB + 5},               // starting and ending mid-chunk, across read buffers
        {3L * MiB, 3L * MiB},                     // one byte
        {data.length - 10, data.length - 1},      // the tail alone
    };
    for (long[] range : ranges) {
      Collector out = new Collector();
      await(onContext(() -> reader.send(manifest, range[0], range[1], out)));
      assertArrayEquals(Arrays.copyOfRange(data, (int) range[0], (int) range[1] + 1), out.bytes(),
          "bytes " + range[0] + "-" + range[1]);
    }
  }

  @Test
  void aCorruptChunkIsNeverSent() throws Exception {
    byte[] data = content(5 * MiB + 5, 3);
    BlobManifest manifest = storeReplica(data);
    long flipped = 3L * MiB + 100;
    try (RandomAccessFile raf = new RandomAccessFile(store.dataPath(manifest.blobId()), "rw")) {
      raf.seek(flipped);
      int b = raf.read();
      raf.seek(flipped);
      raf.write(b ^ 0xFF);
    }
    BlobReader reader = new BlobReader(vertx, store);
    Collector out = new Collector();
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> await(onContext(() -> reader.send(manifest, 0, data.length - 1, out))));
    assertInstanceOf(CorruptReplicaException.class, e.getCause());
    byte[] sent = out.bytes();
    assertTrue(sent.length <= flipped / CHUNK * CHUNK, sent.length + " bytes sent: part of the corrupt chunk left");
    assertArrayEquals(Arrays.copyOf(data, sent.length), sent, "what left was right");

    // A range that stays clear of the corrupt chunk is served.
    Collector before = new Collector();
    await(onContext(() -> reader.send(manifest, 0, 2L * MiB - 1, before)));
    assertArrayEquals(Arrays.copyOf(data, 2 * MiB), before.bytes());
  }

  /**
   * A socket-like sink: copies what it is given and completes each write on a later turn of the event loop, as
   * a socket does once the bytes are out (only then may the reader reuse the buffer).
   */
  private final class Collector implements WriteStream<Buffer> {
    private final List<byte[]> pieces = new ArrayList<>();

    byte[] bytes() {
      Buffer all = Buffer.buffer();
      pieces.forEach(all::appendBytes);
      return all.getBytes();
    }

    @Override
    public Future<Void> write(Buffer data) {
      pieces.add(data.getBytes());
      io.vertx.core.Promise<Void> written = io.vertx.core.Promise.promise();
      vertx.runOnContext(v -> written.complete());
      return written.future();
    }

    @Override
    public Future<Void> end() {
      return Future.succeededFuture();
    }

    @Override
    public Collector exceptionHandler(Handler<Throwable> handler) {
      return this;
    }

    @Override
    public Collector setWriteQueueMaxSize(int maxSize) {
      return this;
    }

    @Override
    public boolean writeQueueFull() {
      return false;
    }

    @Override
    public Collector drainHandler(Handler<Void> handler) {
      return this;
    }
  }
}
