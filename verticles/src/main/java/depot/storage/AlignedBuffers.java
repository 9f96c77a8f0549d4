package depot.storage;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A storage node's bounded pool of direct buffers whose addresses are aligned for O_DIRECT. Buffers are
 * allocated on first need and kept (direct memory is released only by the GC, far too late to churn it);
 * a writer takes all it needs at once or none, so no writer ever waits for another's buffers.
 */
final class AlignedBuffers {
  private final int bufferSize;
  private final int alignment;
  private final int capacity;
  private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
  private int allocated;

  /** Up to {@code totalBytes / bufferSize} buffers of {@code bufferSize} bytes (a multiple of {@code alignment}). */
  AlignedBuffers(int bufferSize, int alignment, long totalBytes) {
    if (bufferSize <= 0 || alignment <= 0 || bufferSize % alignment != 0) {
      throw new IllegalArgumentException("buffer size " + bufferSize + " is not a multiple of " + alignment);
    }
    this.bufferSize = bufferSize;
    this.alignment = alignment;
    this.capacity = (int) Math.min(Integer.MAX_VALUE, totalBytes / bufferSize);
  }

  int bufferSize() {
    return bufferSize;
  }

  int alignment() {
    return alignment;
  }

  /** {@code count} cleared buffers, or an empty list when the pool cannot spare that many now. */
  synchronized List<ByteBuffer> take(int count) {
    if (count > free.size() + (capacity - allocated)) {
      return List.of();
    }
    List<ByteBuffer> out = new ArrayList<>(count);
    while (out.size() < count && !free.isEmpty()) {
      out.add(free.pop().clear());
    }
    while (out.size() < count) {
      out.add(ByteBuffer.allocateDirect(bufferSize + alignment).alignedSlice(alignment));
      allocated++;
    }
    return out;
  }

  synchronized void release(ByteBuffer buffer) {
    free.push(buffer);
  }

  synchronized int available() {
    return free.size() + (capacity - allocated);
  }
}
