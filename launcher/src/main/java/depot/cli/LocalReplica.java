package depot.cli;

import depot.storage.BlobManifest;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.zip.CRC32C;

/**
 * Reads a replica straight from its file when this client runs on the storage node's host, as HDFS's
 * short-circuit reads do: the bytes skip the node's HTTP server and the loopback network. The node, asked
 * through the signed link the gateway handed out, names the file and gives its chunks' CRC32Cs, and every
 * chunk is checked against them before a byte of it is passed on, as the node itself checks every read.
 * Anything amiss (the node does not offer it, the file is not here or not readable, its size or a chunk does
 * not match) ends the local read where it stands; the caller takes the rest over HTTP from that offset.
 */
public final class LocalReplica {
  /** Bytes per read: large enough that the kernel's read-ahead keeps the disk busy between them. */
  private static final int READ_BYTES = 4 << 20;
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  /** Where the replica is, and what each of its chunks must check to. */
  record Layout(Path path, long size, int chunkSize, int[] crcs) {
    /** The node's answer: the replica's manifest, as it keeps it, and the path of its file. */
    static Layout fromJson(JsonObject json) {
      BlobManifest manifest = BlobManifest.fromJson(json);
      Path path = Path.of(json.getString("path"));
      long size = manifest.size();
      int chunkSize = manifest.chunkSize();
      if (!path.isAbsolute() || size < 0 || chunkSize <= 0
          || manifest.crcs().length != (size + chunkSize - 1) / chunkSize) {
        throw new IllegalArgumentException("a local-read answer that does not add up");
      }
      return new Layout(path, size, chunkSize, manifest.crcs());
    }
  }

  private LocalReplica() {}

  /**
   * Asks {@code link} where the replica lies and copies as much of it as checks out into {@code writer}.
   * Returns whether the whole replica was copied; false (with whatever was copied kept) for every failure.
   */
  public static boolean copy(ApiClient api, URI link, HashingWriter writer) {
    Layout layout;
    try {
      HttpResponse<String> answer = api.send(HttpRequest.newBuilder(link).timeout(ASK_TIMEOUT).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      if (answer.statusCode() != 200) {
        return false; // local reads off on that node, a packed replica, an expired link: HTTP it is
      }
      layout = Layout.fromJson(new JsonObject(answer.body()));
    } catch (RuntimeException | IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    try {
      return copy(layout, writer);
    } catch (IOException e) {
      return false; // not on this host, not readable by this user, or a write of the output failed: see caller
    }
  }

  /** Copies whole checked chunks from the start; stops before the first chunk that does not check out. */
  static boolean copy(Layout layout, HashingWriter writer) throws IOException {
    if (writer.bytes() != 0) {
      return false;
    }
    try (FileChannel file = FileChannel.open(layout.path(), StandardOpenOption.READ)) {
      if (file.size() < layout.size()) {
        return false; // some other file of that name
      }
      int perRead = Math.max(1, READ_BYTES / layout.chunkSize()) * layout.chunkSize();
      ByteBuffer buffer = ByteBuffer.allocateDirect(perRead);
      CRC32C crc = new CRC32C();
      long offset = 0;
      int chunk = 0;
      while (offset < layout.size()) {
        buffer.clear().limit((int) Math.min(perRead, layout.size() - offset));
        while (buffer.hasRemaining()) {
          if (file.read(buffer, offset + buffer.position()) < 0) {
            return false; // shrank under us
          }
        }
        int filled = buffer.position();
        int checked = 0;
        while (checked < filled) {
          crc.reset();
          crc.update(buffer.duplicate().position(checked).limit(Math.min(filled, checked + layout.chunkSize())));
          if ((int) crc.getValue() != layout.crcs()[chunk]) {
            break;
          }
          checked = Math.min(filled, checked + layout.chunkSize());
          chunk++;
        }
        writer.absorb(buffer.duplicate().position(0).limit(checked));
        if (checked < filled) {
          return false; // this copy is corrupt here: the rest comes from a node, which fails over past it
        }
        offset += filled;
      }
      return true;
    }
  }
}
