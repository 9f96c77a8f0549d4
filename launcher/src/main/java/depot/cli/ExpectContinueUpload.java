package depot.cli;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One HTTP/1.1 PUT with {@code Expect: 100-continue}, over a plain socket: headers first, the body only
 * once the server answers "100 Continue". A final answer instead (Depot's dedup "201, already stored", or
 * an early error) ends the exchange without a byte of the body sent.
 *
 * <p>Why not HttpClient: up to JDK 18 its expect-continue support hangs forever when the server's early
 * final answer has a body (JDK-8286171, fixed in JDK 19), which is precisely the dedup answer.
 */
public final class ExpectContinueUpload {
  /** How long to wait for "100 Continue" before sending the body anyway, as RFC 9110 allows (curl: 1 s). */
  public static final Duration CONTINUE_WAIT = Duration.ofSeconds(2);
  private static final int MAX_RESPONSE_BODY = 4 << 20;
  private static final int MAX_HEADER_LINE = 64 * 1024;

  /** The final answer; header names are case-insensitive. */
  public record Response(int status, Map<String, List<String>> headers, String body, boolean bodySent) {
    public Optional<String> header(String name) {
      List<String> values = headers.get(name);
      return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }
  }

  private ExpectContinueUpload() {
  }

  /**
   * @param headers extra request headers (Host, Content-Length, Expect and Connection are set here)
   * @param body    what to send once the server agrees
   */
  public static Response put(URI uri, Map<String, String> headers, UploadBody body, Duration connectTimeout)
      throws IOException {
    Response first = exchange(uri, headers, body, connectTimeout, false);
    if (first.status() != 307 || first.bodySent() || first.header("Location").isEmpty()) {
      return first;
    }
    // Sent to the pipeline's head (?direct=1): the link is signed, so the credentials stay with the gateway.
    Map<String, String> forwarded = new java.util.LinkedHashMap<>(headers);
    forwarded.keySet().removeIf(name -> name.equalsIgnoreCase("Authorization"));
    return exchange(uri.resolve(first.header("Location").get()), forwarded, body, connectTimeout, true);
  }

  /** The exchange with the place a 307 pointed to (the storage node heading the pipeline) failed. */
  public abstract static class RedirectFailed extends IOException {
    private final URI target;

    RedirectFailed(URI target, String message, IOException cause) {
      super(message, cause);
      this.target = target;
    }

    /** Where the body was to go: {@code scheme://host:port} of the storage node. */
    public String node() {
      return target.getScheme() + "://" + target.getHost() + ":" + portOf(target);
    }
  }

  /** The place a 307 pointed to could not be reached from here (a storage node behind NAT, or just killed). */
  public static final class RedirectUnreachable extends RedirectFailed {
    RedirectUnreachable(URI target, IOException cause) {
      super(target, "cannot reach " + target.getHost() + ":" + target.getPort() + ": " + cause.getMessage(), cause);
    }
  }

  /** The place a 307 pointed to was reached, then lost before it answered (it died during the upload). */
  public static final class RedirectLost extends RedirectFailed {
    RedirectLost(URI target, IOException cause) {
      super(target, "lost storage node " + target.getHost() + ":" + target.getPort() + " during the upload: "
          + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()), cause);
    }
  }

  private static Response exchange(URI uri, Map<String, String> headers, UploadBody body, Duration connectTimeout,
                                   boolean redirected) throws IOException {
    long length = body.length();
    Socket connected;
    try {
      connected = connect(uri, connectTimeout);
    } catch (IOException e) {
      throw redirected ? new RedirectUnreachable(uri, e) : e;
    }
    try (Socket socket = connected) {
      OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
      PushbackInputStream in = new PushbackInputStream(new BufferedInputStream(socket.getInputStream()), 1);
      out.write(head(uri, headers, length).getBytes(StandardCharsets.ISO_8859_1));
      out.flush();

      if (!answeredWithin(socket, in, CONTINUE_WAIT)) {
        return sendBodyThenRead(body, socket, out, in); // server silent: it may not know 100-continue
      }
      Response first = readResponse(in, false);
      if (first.status() == 100) {
        return sendBodyThenRead(body, socket, out, in);
      }
      return first; // final answer before the body: dedup hit, or a refusal
    } catch (IOException e) {
      throw redirected ? new RedirectLost(uri, e) : e;
    }
  }

  private static int portOf(URI uri) {
    return uri.getPort() != -1 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
  }

  private static Socket connect(URI uri, Duration timeout) throws IOException {
    boolean tls = "https".equalsIgnoreCase(uri.getScheme());
    int port = portOf(uri);
    // Plain TCP through a channel, so a file body can go by sendfile (UploadBody.ofFile).
    Socket socket = tls ? SSLSocketFactory.getDefault().createSocket() : SocketChannel.open().socket();
    try {
      socket.connect(new InetSocketAddress(uri.getHost(), port), (int) timeout.toMillis());
      socket.setTcpNoDelay(true);
      if (socket instanceof SSLSocket ssl) {
        SSLParameters params = ssl.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS"); // check the certificate names this host
        ssl.setSSLParameters(params);
        ssl.startHandshake();
      }
      return socket;
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }

  private static String head(URI uri, Map<String, String> headers, long length) {
    String target = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
        + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    StringBuilder sb = new StringBuilder("PUT ").append(target).append(" HTTP/1.1\r\n")
        .append("Host: ").append(uri.getHost()).append(uri.getPort() == -1 ? "" : ":" + uri.getPort()).append("\r\n");
    headers.forEach((name, value) -> sb.append(name).append(": ").append(value).append("\r\n"));
    sb.append("Content-Length: ").append(length).append("\r\n")
        .append("Expect: 100-continue\r\n")
        .append("Connection: close\r\n") // one exchange per process: no pool to return the socket to
        .append("\r\n");
    return sb.toString();
  }

  /** Waits for the first byte of an answer; false if none came in time. */
  private static boolean answeredWithin(Socket socket, PushbackInputStream in, Duration wait) throws IOException {
    socket.setSoTimeout((int) wait.toMillis());
    try {
      int first = in.read();
      if (first == -1) {
        throw new IOException("the server closed the connection without answering");
      }
      in.unread(first);
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } finally {
      socket.setSoTimeout(0);
    }
  }

  private static Response sendBodyThenRead(UploadBody body, Socket socket, OutputStream out, InputStream in)
      throws IOException {
    try {
      out.flush();
      body.writeTo(socket, out);
      out.flush();
    } catch (IOException writeFailure) {
      // The server may have refused mid-upload and closed; its answer explains why better than "broken pipe".
      try {
        return readFinal(in);
      } catch (IOException noAnswer) {
        throw writeFailure;
      }
    }
    return readFinal(in);
  }

  private static Response readFinal(InputStream in) throws IOException {
    while (true) {
      Response response = readResponse(in, true);
      if (response.status() >= 200) {
        return response;
      }
      // Another interim answer (a late 100, 102 Processing): the final one follows.
    }
  }

  private static Response readResponse(InputStream in, boolean bodySent) throws IOException {
    String statusLine = readLine(in);
    if (statusLine == null) {
      throw new IOException("the server closed the connection without answering");
    }
    String[] parts = statusLine.split(" ", 3);
    int status;
    try {
      status = parts.length >= 2 && parts[0].startsWith("HTTP/") ? Integer.parseInt(parts[1]) : -1;
    } catch (NumberFormatException e) {
      status = -1;
    }
    if (status < 100) {
      throw new IOException("invalid HTTP answer: " + ApiClient.oneLine(statusLine, 80));
    }
    Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (String line = readLine(in); line != null && !line.isEmpty(); line = readLine(in)) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        headers.computeIfAbsent(line.substring(0, colon).trim(), k -> new ArrayList<>())
            .add(line.substring(colon + 1).trim());
      }
    }
    byte[] body = status < 200 || status == 204 || status == 304 ? new byte[0] : readBody(in, headers);
    return new Response(status, headers, new String(body, StandardCharsets.UTF_8), bodySent);
  }

  private static byte[] readBody(InputStream in, Map<String, List<String>> headers) throws IOException {
    List<String> encoding = headers.getOrDefault("Transfer-Encoding", List.of());
    if (encoding.stream().anyMatch(v -> v.toLowerCase(Locale.ROOT).contains("chunked"))) {
      return readChunked(in);
    }
    List<String> length = headers.get("Content-Length");
    if (length != null && !length.isEmpty()) {
      long n;
      try {
        n = Long.parseLong(length.get(0));
      } catch (NumberFormatException e) {
        throw new IOException("invalid Content-Length in the answer: " + length.get(0));
      }
      if (n > MAX_RESPONSE_BODY) {
        throw new IOException("answer too large: " + n + " bytes");
      }
      byte[] body = in.readNBytes((int) n);
      if (body.length != n) {
        throw new IOException("the server closed the connection in the middle of its answer");
      }
      return body;
    }
    return limited(in.readNBytes(MAX_RESPONSE_BODY + 1)); // neither: the body ends with the connection
  }

  private static byte[] readChunked(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String sizeLine = readLine(in);
      if (sizeLine == null) {
        throw new IOException("the server closed the connection in the middle of its answer");
      }
      int semicolon = sizeLine.indexOf(';');
      int size;
      try {
        size = Integer.parseInt((semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim(), 16);
      } catch (NumberFormatException e) {
        throw new IOException("invalid chunk in the answer: " + ApiClient.oneLine(sizeLine, 40));
      }
      if (size == 0) {
        for (String trailer = readLine(in); trailer != null && !trailer.isEmpty(); trailer = readLine(in)) {
          // trailers carry nothing Depot uses
        }
        return body.toByteArray();
      }
      if (body.size() + size > MAX_RESPONSE_BODY) {
        throw new IOException("answer too large");
      }
      byte[] chunk = in.readNBytes(size);
      if (chunk.length != size) {
        throw new IOException("the server closed the connection in the middle of its answer");
      }
      body.writeBytes(chunk);
      readLine(in); // the CRLF after each chunk
    }
  }

  private static byte[] limited(byte[] body) throws IOException {
    if (body.length > MAX_RESPONSE_BODY) {
      throw new IOException("answer too large");
    }
    return body;
  }

  /** A header line without its CRLF; null at end of stream before any byte. */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(128);
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        break;
      }
      if (line.size() >= MAX_HEADER_LINE) {
        throw new IOException("answer header line too long");
      }
      line.write(b);
    }
    if (b == -1 && line.size() == 0) {
      return null;
    }
    String text = line.toString(StandardCharsets.ISO_8859_1);
    return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
  }
}
