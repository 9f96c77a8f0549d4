package depot.it;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;

/** A small blocking client of the public HTTP API, for tests. */
public final class Api {
  public final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  public final String base;

  public Api(String base) {
    this.base = base;
  }

  public static String enc(String name) {
    return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
  }

  public static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  public HttpRequest.Builder req(String path, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  public HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** A status and body read off a raw socket. */
  public record Raw(int status, String body) {
    public String error() {
      return new JsonObject(body).getString("error");
    }
  }

  /**
   * Sends a request whose target goes out exactly as given (each char one octet), which {@link URI} would refuse
   * or re-encode: broken escapes, raw non-ASCII octets. A body waits for {@code 100 Continue}, so a request refused
   * before its body is answered on a connection with nothing unread.
   */
  public Raw raw(String method, String target, String token, byte[] body) throws IOException {
    URI uri = URI.create(base);
    try (java.net.Socket s = new java.net.Socket(uri.getHost(), uri.getPort())) {
      s.setSoTimeout(30_000);
      String head = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
          + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
          + (body == null ? "" : "Content-Length: " + body.length + "\r\nExpect: 100-continue\r\n") + "\r\n";
      s.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
      java.io.InputStream in = new java.io.BufferedInputStream(s.getInputStream());
      Raw answer = readAnswer(in);
      if (answer.status() == 100) {
        s.getOutputStream().write(body);
        answer = readAnswer(in);
      }
      return answer;
    }
  }

  /** One response: 100 Continue (no body), or a final one read to the end of the connection. */
  private static Raw readAnswer(java.io.InputStream in) throws IOException {
    java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed in the response head: " + head);
      }
      head.write(b);
    }
    int status = Integer.parseInt(head.toString(StandardCharsets.ISO_8859_1).substring("HTTP/1.1 ".length(), "HTTP/1.1 ".length() + 3));
    return new Raw(status, status == 100 ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
  }

  public JsonObject register(String nickname) throws Exception {
    HttpResponse<String> r = send(req("/api/v1/clients", null).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("nickname", nickname).encode())).build());
    if (r.statusCode() != 201) {
      throw new IllegalStateException("register failed: " + r.statusCode() + " " + r.body());
    }
    return new JsonObject(r.body());
  }

  public HttpResponse<String> deposit(String token, String name, byte[] data, Integer replicas, String sha) throws Exception {
    String path = "/api/v1/files/" + enc(name) + (replicas != null ? "?replicas=" + replicas : "");
    HttpRequest.Builder b = req(path, token).PUT(HttpRequest.BodyPublishers.ofByteArray(data));
    if (sha != null) {
      b.header("X-Depot-Sha256", sha);
    }
    return send(b.build());
  }

  public HttpResponse<byte[]> retrieve(String token, String name) throws Exception {
    return http.send(req("/api/v1/files/" + enc(name), token).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  public HttpResponse<String> get(String token, String path) throws Exception {
    return send(req(path, token).GET().build());
  }

  public HttpResponse<String> delete(String token, String name) throws Exception {
    return send(req("/api/v1/files/" + enc(name), token).DELETE().build());
  }

  public HttpResponse<String> setReplicas(String token, String name, Object replicas) throws Exception {
    return send(req("/api/v1/files/" + enc(name) + "/replicas", token).header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(new JsonObject().put("replicas", replicas).encode())).build());
  }
}
