// Prints murmur2 test vectors from the real Kafka Java client, one JSON object per line.
// Run through generate-murmur2-vectors.sh, which turns the lines into test/murmur2-vectors.json.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;

public class Murmur2Vectors {
    private static final int[] PARTITION_COUNTS = {1, 3, 6, 12, 16, 100};

    public static void main(String[] args) {
        List<String> keys = new ArrayList<>();
        // Every tail length (byte length mod 4) with and without whole 4-byte blocks.
        keys.add("");
        keys.add("a");
        keys.add("ab");
        keys.add("abc");
        keys.add("abcd");
        keys.add("abcde");
        keys.add("abcdef");
        keys.add("abcdefg");
        keys.add("abcdefgh");
        keys.add("abcdefghi");
        keys.add("abcdefghij");
        keys.add("abcdefghijk");
        // Kafka's own UtilsTest.testMurmur2 inputs.
        keys.add("21");
        keys.add("foobar");
        keys.add("a-little-bit-long-string");
        keys.add("a-little-bit-longer-string");
        keys.add("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8");
        // Bytes >= 0x80 in the tail and in whole blocks, where sign extension would bite.
        keys.add("\u00e9");              // 2 bytes
        keys.add("\u20ac");              // 3 bytes
        keys.add("\ud83d\ude00");        // 4 bytes (emoji, surrogate pair in Java)
        keys.add("a\ud83d\ude00");       // 5 bytes
        keys.add("\u00fcn\u00efc\u00f8d\u00e9"); // ünïcødé
        keys.add("\u65e5\u672c\u8a9e");  // 日本語
        keys.add("\ud83d\ude80 launch");
        keys.add("\u00ff\u00ff\u00ff\u00ff");
        keys.add("caf\u00e9-\u00e9t\u00e9-\ud83c\udf89-\u0444\u044b\u0432");
        // Typical aggregate ids.
        keys.add("order-1");
        keys.add("order-2");
        keys.add("order-42");
        keys.add("order-1000");
        keys.add("order-100");
        keys.add("order-101");
        keys.add("account-42");
        keys.add("account-1");
        keys.add("user-1002");
        keys.add("customer:7f3a");
        keys.add("Order/2024-01-01/000123");
        keys.add("123e4567-e89b-12d3-a456-426614174000");
        keys.add("00000000-0000-0000-0000-000000000000");
        keys.add("f47ac10b-58cc-4372-a567-0e02b2c3d479");
        keys.add("order-9b2d7e2c-4f0e-4d3a-8f1b-2c6a0e5d9f31");
        // Long inputs: many blocks, and one length not a multiple of 4.
        keys.add("The quick brown fox jumps over the lazy dog");
        keys.add("x".repeat(100));
        keys.add("0123456789".repeat(103));
        keys.add("\u65e5\u672c\u8a9e-".repeat(50));

        for (String key : keys) {
            byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
            int hash = Utils.murmur2(bytes);
            StringBuilder line = new StringBuilder();
            line.append("{\"key\":").append(jsonString(key));
            line.append(",\"utf8Length\":").append(bytes.length);
            line.append(",\"murmur2\":").append(hash);
            line.append(",\"partitions\":{");
            for (int i = 0; i < PARTITION_COUNTS.length; i++) {
                int n = PARTITION_COUNTS[i];
                int partition = Utils.toPositive(hash) % n;
                // The producer's own code path must agree with the formula we port.
                if (partition != BuiltInPartitioner.partitionForKey(bytes, n)) {
                    throw new IllegalStateException("BuiltInPartitioner disagrees for key " + key + ", n " + n);
                }
                if (i > 0) line.append(',');
                line.append('"').append(n).append("\":").append(partition);
            }
            line.append("}}");
            System.out.println(line);
        }
    }

    // ASCII-only output with \\u escapes, so the console encoding cannot corrupt keys.
    private static String jsonString(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c >= 0x20 && c < 0x7f) {
                out.append(c);
            } else {
                out.append(String.format("\\u%04x", (int) c));
            }
        }
        return out.append('"').toString();
    }
}
