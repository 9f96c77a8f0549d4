package depot.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dedup relies on Expect: 100-continue: a server that already has the content answers 201 straight away,
 * and the body must then not be sent. The JDK's HttpServer always sends "100 Continue" by itself, so these
 * tests script the server side on a raw socket.
 */
class ExpectContinueTest {
  private static final Duration LIMIT = Duration.ofSeconds(20);

  @TempDir
  Path tmp;

  /** One connection, handled by a script that gets the request head and the socket. */
  @FunctionalInterface
  interface Script {
    Object run(String head, InputStream in, OutputStream out, Socket socket) throws Exception;
  }

  private static final class RawServer implements AutoCloseable {
    final ServerSocket listener;
    final CompletableFuture<Object> result;

    /** Handles one connection per script, in order; the result is the last script's. */
    RawServer(Script... scripts) throws IOException {
      listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
      result = CompletableFuture.supplyAsync(() -> {
        Object last = null;
        for (Script script : scripts) {
          try (Socket socket = listener.accept()) {
            InputStream in = socket.getInputStream();
            last = script.run(readHead(in), in, socket.getOutputStream(), socket);
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        }
        return last;
      });
    }

    String url() {
      return "http://127.0.0.1:" + listener.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      listener.close();
    }
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b == -1) {
        break;
      }
      head.write(b);
    }
    return head.toString(StandardCharsets.US_ASCII);
  }

  private static void answer(OutputStream out, String statusLine, String extraHeaders, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    out.write((statusLine + "\r\n" + extraHeaders + "Content-Length: " + bytes.length + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    out.write(bytes);
    out.flush();
  }

  /** Whatever arrives after the answer would be a body that should not have been sent. */
  private static long bytesUntilQuiet(Socket socket, InputStream in) throws IOException {
    socket.setSoTimeout(1000);
    long seen = 0;
    byte[] buf = new byte[65536];
    try {
      for (int n; (n = in.read(buf)) != -1; ) {
        seen += n;
      }
    } catch (SocketTimeoutException quiet) {
      // silent: good
    }
    return seen;
  }

  private CliRunner.Result deposit(Path file, String server) {
    return assertTimeoutPreemptively(LIMIT, () -> CliRunner.run(
        Map.of("DEPOT_TOKEN", "t", "DEPOT_CONFIG_DIR", tmp.toString()),
        "deposit", file.toString(), "--server", server));
  }

  @Test
  void dedupAnswerMeansTheBodyIsNeverSent() throws Exception {
    Path file = Files.write(tmp.resolve("big.bin"), new byte[4 * 1024 * 1024]);
    String record = "{\"name\":\"big.bin\",\"size\":4194304,\"version\":3,\"desiredReplicas\":3,\"liveReplicas\":3,\"nodes\":[\"a\",\"b\",\"c\"]}";
    try (RawServer server = new RawServer((head, in, out, socket) -> {
      assertTrue(head.startsWith("PUT /api/v1/files/big.bin?direct=1 HTTP/1.1\r\n"), head);
      assertTrue(head.contains("\r\nExpect: 100-continue\r\n"), head);
      assertTrue(head.contains("\r\nContent-Length: 4194304\r\n"), head);
      assertTrue(head.contains("\r\nAuthorization: Bearer t\r\n"), head);
      assertTrue(head.contains("\r\nX-Depot-Sha256: " + Sha256.ofFile(file, n -> { }) + "\r\n"), head);
      answer(out, "HTTP/1.1 201 Created", "Content-Type: application/json\r\nX-Depot-Dedup: true\r\n", record);
      return bytesUntilQuiet(socket, in);
    })) {
      CliRunner.Result result = deposit(file, server.url());

      assertEquals(0, result.code(), result.err());
      assertEquals("Deposited big.bin: 4194304 bytes, sha256 " + Sha256.ofFile(file, n -> { }).substring(0, 12)
          + ", version 3, replicas 3/3 on a,b,c (already stored, nothing uploaded)\n", result.out());
      assertEquals(0L, server.result.get());
    }
  }

  @Test
  void earlyRefusalIsReportedWithoutSendingTheBody() throws Exception {
    Path file = Files.write(tmp.resolve("f.bin"), new byte[1024 * 1024]);
    try (RawServer server = new RawServer((head, in, out, socket) -> {
      answer(out, "HTTP/1.1 507 Insufficient Storage", "Content-Type: application/json\r\n",
          "{\"error\":\"insufficient_storage\",\"message\":\"no node has 1048576 bytes free\"}");
      return bytesUntilQuiet(socket, in);
    })) {
      CliRunner.Result result = deposit(file, server.url());

      assertEquals(1, result.code());
      assertEquals("depot: no node has 1048576 bytes free\n", result.err());
      assertEquals(0L, server.result.get());
    }
  }

  @Test
  void bodyFollowsOnContinueAndChunkedAnswersAreRead() throws Exception {
    byte[] content = new byte[300_001];
    new Random(3).nextBytes(content);
    Path file = Files.write(tmp.resolve("x y.bin"), content);
    try (RawServer server = new RawServer((head, in, out, socket) -> {
      assertTrue(head.startsWith("PUT /api/v1/files/x%20y.bin HTTP/1.1\r\n"), head);
      out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      byte[] body = in.readNBytes(content.length);
      String json = "{\"name\":\"x y.bin\",\"size\":300001,\"version\":1,\"desiredReplicas\":2,\"liveReplicas\":1,\"nodes\":[\"n1\"]}";
      String half = json.substring(0, 20);
      String rest = json.substring(20);
      out.write(("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
          + Integer.toHexString(half.length()) + "\r\n" + half + "\r\n"
          + Integer.toHexString(rest.length()) + ";ext=1\r\n" + rest + "\r\n0\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      return body;
    })) {
      CliRunner.Result result = deposit(file, server.url());

      assertEquals(0, result.code(), result.err());
      assertTrue(result.out().startsWith("Deposited x y.bin: 300001 bytes, sha256 "), result.out());
      assertTrue(result.out().endsWith(", version 1, replicas 1/2 on n1\n"), result.out());
      assertArrayEquals(content, (byte[]) server.result.get());
    }
  }

  @Test
  void aServerThatNeverSaysContinueStillGetsTheBody() throws Exception {
    byte[] content = "old-fashioned server".getBytes(StandardCharsets.UTF_8);
    try (RawServer server = new RawServer((head, in, out, socket) -> {
      byte[] body = in.readNBytes(content.length); // waits: the client sends after its grace period
      answer(out, "HTTP/1.1 201 Created", "", "{\"name\":\"o\",\"size\":20}");
      return body;
    })) {
      ExpectContinueUpload.Response response = assertTimeoutPreemptively(LIMIT, () -> ExpectContinueUpload.put(
          URI.create(server.url() + "/api/v1/files/o"), Map.of(), UploadBody.ofBytes(content),
          Duration.ofSeconds(5)));

      assertEquals(201, response.status());
      assertTrue(response.bodySent());
      assertEquals("{\"name\":\"o\",\"size\":20}", response.body());
      assertArrayEquals(content, (byte[]) server.result.get());
    }
  }

  @Test
  void refusalInTheMiddleOfTheUploadIsStillReported() throws Exception {
    byte[] content = new byte[32 * 1024 * 1024]; // far more than socket buffers hold
    try (RawServer server = new RawServer((head, in, out, socket) -> {
      out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      in.readNBytes(1024);
      answer(out, "HTTP/1.1 413 Payload Too Large", "Connection: close\r\n", "{\"message\":\"file too large\"}");
      socket.shutdownOutput();
      Thread.sleep(200);
      return null; // closing with unread data resets the connection under the client's feet
    })) {
      ExpectContinueUpload.Response response = assertTimeoutPreemptively(LIMIT, () -> ExpectContinueUpload.put(
          URI.create(server.url() + "/x"), Map.of(), UploadBody.ofBytes(content),
          Duration.ofSeconds(5)));
      assertEquals(413, response.status());
      assertEquals("file too large", ApiClient.errorMessage(response.status(), response.body()));
    }
  }

  @Test
  void unreachableServerReadsLikeTheOtherCommands() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path file = Files.writeString(tmp.resolve("f"), "x");
    CliRunner.Result result = deposit(file, "http://127.0.0.1:" + port);
    assertEquals("depot: cannot reach server http://127.0.0.1:" + port + ": connection refused\n", result.err());
    assertFalse(result.code() == 0);
  }

  private static final String RECORD = "{\"name\":\"r.bin\",\"size\":2097152,\"version\":1,\"desiredReplicas\":2,"
      + "\"liveReplicas\":2,\"nodes\":[\"s1\",\"s2\"]}";

  /** Says "100 Continue", takes {@code length} bytes of body and answers 201 with {@link #RECORD}; returns the body. */
  private static byte[] takeBody(InputStream in, OutputStream out, int length) throws IOException {
    out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    byte[] body = in.readNBytes(length);
    answer(out, "HTTP/1.1 201 Created", "Content-Type: application/json\r\n", RECORD);
    return body;
  }

  @Test
  void aRedirectSendsTheBodyToTheStorageNodeAndNotTheToken() throws Exception {
    byte[] content = new byte[2 * 1024 * 1024];
    new Random(5).nextBytes(content);
    Path file = Files.write(tmp.resolve("r.bin"), content);
    try (RawServer storage = new RawServer((head, in, out, socket) -> {
      assertTrue(head.startsWith("PUT /direct/v1/uploads/b1?t=abc&sig=def HTTP/1.1\r\n"), head);
      assertTrue(head.contains("\r\nExpect: 100-continue\r\n"), head);
      assertFalse(head.contains("Authorization"), "a signed link needs no token: " + head);
      return takeBody(in, out, content.length);
    }); RawServer gateway = new RawServer((head, in, out, socket) -> {
      assertTrue(head.startsWith("PUT /api/v1/files/r.bin?direct=1 HTTP/1.1\r\n"), head);
      answer(out, "HTTP/1.1 307 Temporary Redirect",
          "Location: " + storage.url() + "/direct/v1/uploads/b1?t=abc&sig=def\r\nConnection: close\r\n", "");
      return bytesUntilQuiet(socket, in);
    })) {
      CliRunner.Result result = deposit(file, gateway.url());

      assertEquals(0, result.code(), result.err());
      assertTrue(result.out().endsWith(", version 1, replicas 2/2 on s1,s2\n"), result.out());
      assertEquals(0L, gateway.result.get(), "no byte of the body went to the gateway");
      assertArrayEquals(content, (byte[]) storage.result.get());
    }
  }

  @Test
  void anUnreachableStorageNodeMeansTheBodyGoesThroughTheGateway() throws Exception {
    byte[] content = new byte[2 * 1024 * 1024];
    new Random(6).nextBytes(content);
    Path file = Files.write(tmp.resolve("r.bin"), content);
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    try (RawServer gateway = new RawServer((head, in, out, socket) -> {
      answer(out, "HTTP/1.1 307 Temporary Redirect",
          "Location: http://127.0.0.1:" + closedPort + "/direct/v1/uploads/b1?t=abc&sig=def\r\n", "");
      return null;
    }, (head, in, out, socket) -> {
      assertTrue(head.startsWith("PUT /api/v1/files/r.bin HTTP/1.1\r\n"), "asked again without direct=1: " + head);
      assertTrue(head.contains("\r\nAuthorization: Bearer t\r\n"), head);
      assertTrue(head.contains("\r\nX-Depot-Avoid: http://127.0.0.1:" + closedPort + "\r\n"),
          "placed again without the node it could not reach: " + head);
      return takeBody(in, out, content.length);
    })) {
      CliRunner.Result result = deposit(file, gateway.url());

      assertEquals(0, result.code(), result.err());
      assertArrayEquals(content, (byte[]) gateway.result.get());
    }
  }

  /**
   * A storage node that dies while the body goes straight to it: the CLI tries again, and names the node it
   * lost, so that the gateway places the new try elsewhere instead of on a node not yet known to be dead.
   */
  @Test
  void aStorageNodeLostDuringTheUploadIsNamedWhenTheDepositIsTriedAgain() throws Exception {
    byte[] content = new byte[16 * 1024 * 1024]; // far more than socket buffers hold
    new Random(7).nextBytes(content);
    Path file = Files.write(tmp.resolve("r.bin"), content);
    try (RawServer dying = new RawServer((head, in, out, socket) -> {
      out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      in.readNBytes(1 << 20);
      socket.setSoLinger(true, 0); // a reset, as a killed process's socket gives
      return null;
    }); RawServer alive = new RawServer((head, in, out, socket) -> takeBody(in, out, content.length));
    RawServer gateway = new RawServer((head, in, out, socket) -> {
      assertFalse(head.contains("X-Depot-Avoid"), "nothing lost yet: " + head);
      answer(out, "HTTP/1.1 307 Temporary Redirect", "Location: " + dying.url() + "/direct/v1/uploads/b1?t=a\r\n", "");
      return null;
    }, (head, in, out, socket) -> {
      answer(out, "HTTP/1.1 307 Temporary Redirect", "Location: " + alive.url() + "/direct/v1/uploads/b2?t=b\r\n", "");
      return head;
    })) {
      CliRunner.Result result = deposit(file, gateway.url());

      assertEquals(0, result.code(), result.err());
      assertTrue(result.err().contains("lost storage node 127.0.0.1:" + dying.listener.getLocalPort()), result.err());
      String retry = (String) gateway.result.get();
      assertTrue(retry.startsWith("PUT /api/v1/files/r.bin?direct=1 HTTP/1.1\r\n"), retry);
      assertTrue(retry.contains("\r\nX-Depot-Avoid: " + dying.url() + "\r\n"), "the retry names the lost node: " + retry);
      assertArrayEquals(content, (byte[]) alive.result.get());
    }
  }
}
