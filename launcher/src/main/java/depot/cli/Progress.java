package depot.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * A progress bar on stderr when a user watches a terminal, otherwise nothing: scripts and pipes get
 * clean output. {@link #update} may be called from any thread (HttpClient pushes body bytes from its own).
 */
public final class Progress implements AutoCloseable {
  private static final long MIB = 1L << 20;

  private final ProgressBar bar;

  private Progress(ProgressBar bar) {
    this.bar = bar;
  }

  public static Progress none() {
    return new Progress(null);
  }

  /**
   * @param total bytes expected, or a negative number when unknown
   * @param show  false for a no-op progress
   */
  public static Progress start(String task, long total, boolean show) {
    if (!show) {
      return none();
    }
    ProgressBar bar = new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(total)
        .setUnit(" MiB", MIB)
        .showSpeed()
        .setUpdateIntervalMillis(200)
        .build(); // draws on System.err by default, keeping stdout for command output
    return new Progress(bar);
  }

  public void update(long current) {
    if (bar != null) {
      bar.stepTo(current);
    }
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
