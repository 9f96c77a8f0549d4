package depot.cli.commands;

import depot.cli.ApiClient;
import depot.cli.CliContext;
import depot.cli.CliException;
import depot.cli.CommandBase;
import depot.cli.Credentials;
import depot.cli.Retrying;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Registers a new client ({@code --nickname}) or reconnects an existing one ({@code --client-id --token}),
 * then stores the credentials for the other commands.
 */
@Command(name = "login", mixinStandardHelpOptions = true,
    description = {"Register as a new client, or reconnect as an existing one.",
        "  depot login --nickname NAME",
        "  depot login --client-id ID --token TOKEN"})
public final class LoginCommand extends CommandBase {

  @Option(names = "--nickname", paramLabel = "NAME", description = "Register a new client under this nickname.")
  String nickname;

  @Option(names = "--client-id", paramLabel = "ID", description = "Reconnect as this existing client.")
  String clientId;

  @Option(names = "--token", paramLabel = "TOKEN", description = "The existing client's token.")
  String token;

  public LoginCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void execute() throws Exception {
    if (clientId != null || token != null) {
      if (clientId == null || token == null) {
        throw new CliException("reconnecting needs both --client-id and --token", 2, null);
      }
      reconnect();
    } else if (nickname != null) {
      register();
    } else {
      throw new CliException("give --nickname NAME, or --client-id ID --token TOKEN", 2, null);
    }
  }

  private void register() throws Exception {
    if (nickname.isBlank()) {
      throw new CliException("nickname must not be blank", 2, null);
    }
    ApiClient api = anonymousApi();
    // One key for every try: a registration sent again (its answer lost, or the server unavailable for a
    // moment) gets the same client back, not a second one.
    HttpRequest request = api.request(ApiClient.CLIENTS)
        .header("Content-Type", "application/json")
        .header(ApiClient.IDEMPOTENCY_KEY_HEADER, UUID.randomUUID().toString())
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("nickname", nickname).encode()))
        .build();
    HttpResponse<String> response = Retrying.call(ctx, "login",
        () -> api.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)), HttpResponse::statusCode);
    JsonObject answer = ApiClient.parseJson(api.requireSuccess(response));
    String id = answer.getString("clientId");
    String newToken = answer.getString("token");
    if (id == null || newToken == null) {
      throw new CliException("unexpected answer from server: no clientId or token");
    }
    credentials().save(new Credentials(api.base().toString(), id, newToken, nickname));
    ctx.out().println("Logged in as " + nickname + " (client id " + id + ")");
  }

  /** A token is checked by using it: listing one's files is harmless and needs a valid token. */
  private void reconnect() throws Exception {
    ApiClient api = new ApiClient(server(), token);
    HttpResponse<String> response = api.send(api.request(ApiClient.FILES).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() == 401 || response.statusCode() == 403) {
      throw new CliException("invalid client id or token");
    }
    api.requireSuccess(response);
    // Keep the nickname we knew for this client, unless a new one is given.
    String name = nickname != null ? nickname : previousNickname();
    credentials().save(new Credentials(api.base().toString(), clientId, token, name));
    ctx.out().println("Logged in as " + (name != null ? name + " (client id " + clientId + ")" : "client " + clientId));
  }

  private String previousNickname() {
    Optional<Credentials> previous;
    try {
      previous = credentials().load();
    } catch (CliException unreadable) {
      return null; // about to be overwritten anyway
    }
    return previous.filter(c -> clientId.equals(c.clientId())).map(Credentials::nickname).orElse(null);
  }
}
