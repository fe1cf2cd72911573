import Foundation

/// CPU time from Linux's /proc, for the benchmarks: a process's (`/proc/PID/stat`) or one
/// thread's (`/proc/self/task/TID/stat`).
enum ProcessCPU {
    /// Seconds of CPU (user + system) used so far by what the stat file describes; nil if it
    /// cannot be read.
    static func seconds(statFile path: String) -> Double? {
        // The command's name is in parentheses and may hold spaces; after it, user and system
        // time are fields 14 and 15 of the file (1-based), in clock ticks.
        guard let stat = try? String(contentsOfFile: path, encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
