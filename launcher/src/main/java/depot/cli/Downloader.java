package depot.cli;

import depot.protocol.Headers;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * Fetches a file's bytes the fast way: the gateway is asked for a signed direct link ({@code ?direct=1},
 * answered 307) and the replica is read from its storage node; if that node cannot be reached or the
 * transfer breaks, the rest comes through the gateway from the same offset (the gateway itself fails
 * over between replicas). Everything received is hashed on the way. On a storage node's own host, where the
 * cluster allows it, the replica's file is read directly instead ({@link LocalReplica}), every chunk checked.
 */
public final class Downloader {
  private Downloader() {}

  /** A success's bytes as a stream; an error's short body read whole, so an answer dropped for a retry holds nothing open. */
  private static final HttpResponse.BodyHandler<InputStream> ERRORS_READ_WHOLE = info -> info.statusCode() >= 400
      ? HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofByteArray(), java.io.ByteArrayInputStream::new)
      : HttpResponse.BodySubscribers.ofInputStream();

  /**
   * What was received, the SHA-256 the server announced for it (null if none), and how many of its first bytes
   * were read from a replica's file on this host.
   */
  public record Download(Sha256.Copied received, String expectedSha256, long readLocally) {}

  /**
   * @param retrying where to say that the server is asked again while it is briefly unavailable (nothing has
   *                 been written by then); null asks once (the bench counts every failure)
   */
  public static Download fetch(CliContext retrying, ApiClient api, String name, WritableByteChannel out,
                               LongConsumer progress) throws Exception {
    return fetch(retrying, api, name, new HashingWriter(out, progress));
  }

  /** Like {@link #fetch(CliContext, ApiClient, String, WritableByteChannel, LongConsumer)}, into {@code writer}. */
  public static Download fetch(CliContext retrying, ApiClient api, String name, HashingWriter writer) throws Exception {
    Retrying.Attempt<HttpResponse<InputStream>> ask =
        () -> api.send(api.request(ApiClient.filePath(name) + "?direct=1").GET().build(), ERRORS_READ_WHOLE);
    HttpResponse<InputStream> first = retrying == null ? ask.run()
        : Retrying.call(retrying, "retrieve of " + name, ask, HttpResponse::statusCode);
    String expected;
    try (InputStream body = first.body()) {
      if (first.statusCode() != 307 && !ApiClient.isSuccess(first.statusCode())) {
        throw api.failure(first.statusCode(), body);
      }
      expected = expectedSha256(first.headers());
      if (first.statusCode() != 307) {
        // A gateway that chose to proxy: this response carries the bytes.
        byte[] buf = new byte[1 << 20];
        int n;
        while ((n = body.read(buf)) != -1) {
          writer.absorb(ByteBuffer.wrap(buf, 0, n));
        }
        return new Download(writer.result(), expected, 0);
      }
    }
    String location = first.headers().firstValue("Location")
        .orElseThrow(() -> new CliException("the server redirected " + name + " without a Location"));
    Optional<String> localRead = first.headers().firstValue(Headers.LOCAL_READ);
    if (localRead.isPresent() && LocalReplica.copy(api, URI.create(localRead.get()), writer)) {
      return new Download(writer.result(), expected, writer.bytes());
    }
    long readLocally = writer.bytes();
    try {
      Map<String, String> from = writer.bytes() == 0 ? Map.of() : Map.of("Range", "bytes=" + writer.bytes() + "-");
      if (ApiClient.isSuccess(StreamingGet.get(URI.create(location), from, writer).status())) {
        return new Download(writer.result(), expected, readLocally);
      }
    } catch (IOException e) {
      // the storage node is not reachable from here, or it cut the transfer: go on through the gateway
    }
    long offset = writer.bytes();
    Map<String, String> headers = new HashMap<>(Map.of("Authorization", "Bearer " + api.token()));
    if (offset > 0) {
      headers.put("Range", "bytes=" + offset + "-");
    }
    StreamingGet.Head rest = StreamingGet.get(URI.create(api.base() + ApiClient.filePath(name)), headers, writer);
    if (!ApiClient.isSuccess(rest.status())) {
      throw ApiClient.failure(rest.status(), rest.errorBody());
    }
    return new Download(writer.result(), expected, readLocally);
  }

  public static String expectedSha256(HttpHeaders headers) {
    String fromHeader = Sha256.fromHeader(headers.firstValue(ApiClient.SHA256_HEADER).orElse(null));
    return fromHeader != null ? fromHeader : Sha256.fromHeader(headers.firstValue("ETag").orElse(null));
  }
}
