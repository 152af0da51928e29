// Reference oracle for flowdef's pure-Python Quartz cron engine.
//
// Reads one case per line on stdin:   EXPR <TAB> TZ <TAB> AFTER_EPOCH_MILLIS <TAB> COUNT
// and prints one line per case:
//   OK <epochmillis> <epochmillis> ...   (at most COUNT fire times, fewer when Quartz returns null)
//   ERR <message>                        (new CronExpression(EXPR) threw ParseException)
//   EXC <exception>                      (parsing succeeded but getNextValidTimeAfter threw)
//   TIMEOUT <fire times found so far>    (Quartz did not answer within the time limit: some
//                                         accepted expressions make getNextValidTimeAfter loop forever)
// The optional argument "--timeout-ms=N" sets that limit per case (default 2000).
// Inside EXPR, "\t", "\n" and "\\" are escapes for tab, newline and backslash.
//
// With the single argument "--zones" it instead prints one line per id of
// java.util.TimeZone.getAvailableIDs() and ZoneId.getAvailableZoneIds():
//   <id> <TAB> <source: TZ, ZI or TZ+ZI> <TAB> <TimeZone.getTimeZone(id).toZoneId()>
//        <TAB> <offset changes by UTC instant> <TAB> <offset changes by wall-clock time>
// "--ids" prints just the ids of TimeZone.getAvailableIDs(), and "--resolve" reads time-zone ids on stdin and prints what
// TimeZone.getTimeZone(id) makes of each: "<resolved id> <TAB> <raw offset seconds>".
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.ZoneId;
import java.util.Calendar;
import java.util.Date;
import java.util.GregorianCalendar;
import java.util.TimeZone;
import java.util.TreeMap;

import org.quartz.CronExpression;

public final class QuartzOracle {
    private static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                if (n == 't') b.append('\t');
                else if (n == 'n') b.append('\n');
                else b.append(n);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static String oneLine(String s) {
        return s == null ? "null" : s.replace('\n', ' ').replace('\r', ' ');
    }

    // Offset changes of java.util.TimeZone between 1900 and 2129, as "second:offsetSeconds"
    // items after the offset at the start.  With wall=false: the offset of each UTC instant
    // (TimeZone.getOffset, what Calendar uses to show an instant); with wall=true: the offset
    // GregorianCalendar applies to each local wall-clock time when it converts fields to an
    // instant (where gaps and overlaps are resolved), keyed by the wall time.  Found by
    // sampling every 5 days plus around every java.time transition, then bisecting.
    private static String changes(TimeZone tz, ZoneId zid, boolean wall) {
        long start = -2208988800L;  // 1900-01-01T00:00:00
        long end = 5017996800L;     // 2129-01-01T00:00:00
        java.util.TreeSet<Long> points = new java.util.TreeSet<>();
        for (long t = start; t <= end; t += 5 * 86400L) points.add(t);
        java.time.zone.ZoneRules rules = zid.getRules();
        java.time.Instant cursor = java.time.Instant.ofEpochSecond(start);
        while (true) {
            java.time.zone.ZoneOffsetTransition tr = rules.nextTransition(cursor);
            if (tr == null || tr.getInstant().getEpochSecond() > end) break;
            long e = tr.getInstant().getEpochSecond();
            if (wall) {
                long before = tr.getOffsetBefore().getTotalSeconds(), after = tr.getOffsetAfter().getTotalSeconds();
                for (long w : new long[] {e + before, e + after}) {
                    for (long d = -2; d <= 2; d++) points.add(w + d);
                }
            } else {
                points.add(e - 1);
                points.add(e);
            }
            cursor = tr.getInstant();
        }
        GregorianCalendar local = wall ? new GregorianCalendar(tz) : null;
        GregorianCalendar utc = wall ? new GregorianCalendar(TimeZone.getTimeZone("UTC")) : null;
        StringBuilder b = new StringBuilder();
        Long prev = null;
        for (Long t : points) {
            if (prev != null) {
                long lo = prev, hi = t;
                int offLo = offset(tz, local, utc, lo), offHi = offset(tz, local, utc, hi);
                if (offLo != offHi) {
                    while (hi - lo > 1) {
                        long mid = lo + (hi - lo) / 2;
                        if (offset(tz, local, utc, mid) == offLo) lo = mid; else hi = mid;
                    }
                    b.append(' ').append(hi).append(':').append(offHi);
                }
            }
            prev = t;
        }
        return offset(tz, local, utc, start) + b.toString();
    }

    private static int offset(TimeZone tz, GregorianCalendar local, GregorianCalendar utc, long seconds) {
        if (local == null) return tz.getOffset(seconds * 1000L) / 1000;
        utc.setTimeInMillis(seconds * 1000L);
        local.clear();
        local.set(utc.get(Calendar.YEAR), utc.get(Calendar.MONTH), utc.get(Calendar.DAY_OF_MONTH),
                  utc.get(Calendar.HOUR_OF_DAY), utc.get(Calendar.MINUTE), utc.get(Calendar.SECOND));
        return (int) (seconds - local.getTimeInMillis() / 1000L);
    }

    private static void zones(PrintStream out) {
        TreeMap<String, String> src = new TreeMap<>();
        for (String id : TimeZone.getAvailableIDs()) src.put(id, "TZ");
        for (String id : ZoneId.getAvailableZoneIds()) src.merge(id, "ZI", (a, b) -> a + "+" + b);
        for (String id : src.keySet()) {
            TimeZone tz = TimeZone.getTimeZone(id);
            ZoneId zid = tz.toZoneId();
            out.println(id + "\t" + src.get(id) + "\t" + zid.getId() + "\t" + changes(tz, zid, false)
                        + "\t" + changes(tz, zid, true));
        }
    }

    // For each id on stdin: the id java.util.TimeZone.getTimeZone(id) resolves to ("GMT" for
    // unknown ids) and its raw offset in seconds.
    private static void resolve(BufferedReader in, PrintStream out) throws java.io.IOException {
        String line;
        while ((line = in.readLine()) != null) {
            TimeZone tz = TimeZone.getTimeZone(line);
            out.println(tz.getID() + "\t" + tz.getRawOffset() / 1000);
        }
    }

    @SuppressWarnings({"deprecation", "removal"})
    private static void stopThread(Thread t) throws InterruptedException {
        // Quartz's loop cannot be interrupted; Thread.stop still works on JDK 17.
        try {
            t.stop();
        } catch (UnsupportedOperationException e) {
            // newer JDKs: leave the daemon thread spinning, the JVM exits at the end anyway
        }
        t.join(1000);
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, false, "UTF-8");
        if (args.length == 1 && args[0].equals("--ids")) {
            for (String id : new java.util.TreeSet<>(java.util.Arrays.asList(TimeZone.getAvailableIDs()))) out.println(id);
            out.flush();
            return;
        }
        if (args.length == 1 && args[0].equals("--zones")) {
            zones(out);
            out.flush();
            return;
        }
        long timeoutMs = 2000;
        for (String a : args) {
            if (a.startsWith("--timeout-ms=")) timeoutMs = Long.parseLong(a.substring("--timeout-ms=".length()));
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (args.length == 1 && args[0].equals("--resolve")) {
            resolve(in, out);
            out.flush();
            return;
        }
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.split("\t", -1);
            if (p.length != 4) {
                out.println("BAD input line");
                continue;
            }
            final String expr = unescape(p[0]);
            final TimeZone zone = TimeZone.getTimeZone(p[1]);
            final long after = Long.parseLong(p[2]);
            final int count = Integer.parseInt(p[3]);
            final StringBuffer found = new StringBuffer();
            final String[] failure = new String[2];
            Thread worker = new Thread(() -> {
                CronExpression ce;
                try {
                    ce = new CronExpression(expr);
                } catch (ParseException e) {
                    failure[0] = "ERR " + oneLine(e.getMessage());
                    return;
                } catch (RuntimeException e) {
                    failure[0] = "ERR " + oneLine(e.toString());
                    return;
                }
                ce.setTimeZone(zone);
                try {
                    Date t = new Date(after);
                    for (int i = 0; i < count; i++) {
                        t = ce.getNextValidTimeAfter(t);
                        if (t == null) break;
                        found.append(' ').append(t.getTime());
                    }
                } catch (RuntimeException e) {
                    failure[0] = "EXC " + oneLine(e.toString());
                }
            });
            worker.setDaemon(true);
            worker.start();
            worker.join(timeoutMs);
            if (worker.isAlive()) {
                stopThread(worker);
                out.println("TIMEOUT" + found);
            } else if (failure[0] != null) {
                out.println(failure[0]);
            } else {
                out.println("OK" + found);
            }
        }
        out.flush();
    }
}
