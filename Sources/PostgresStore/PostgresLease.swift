#if PostgreSQL
import PostgresNIO

/// The lease: one row saying which node may write, under which epoch, until when — timed by
/// PostgreSQL's clock, so the nodes' clocks need not agree. A node claims it when it is free or
/// lapsed (the epoch goes up by one: every write of the former holder is then refused, see
/// `fence(epoch:)`), and renews it while it holds it (the epoch stays).
extension PostgresEventStore {
    /// Claims or renews the lease for `holder` (a name unique to this process) for `seconds`;
    /// returns the epoch held, or nil when another node holds a lease that has not lapsed.
    public func claimLease(holder: String, seconds: Double) async throws -> Int64? {
        try await bounded("claimLease") { [client] in
            let rows = try await client.query(
                """
                INSERT INTO lease (singleton, holder, epoch, expires_at)
                VALUES (true, \(holder), 1, now() + make_interval(secs => \(seconds)))
                ON CONFLICT (singleton) DO UPDATE SET
                  epoch = CASE WHEN lease.holder = EXCLUDED.holder THEN lease.epoch ELSE lease.epoch + 1 END,
                  holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                WHERE lease.holder = EXCLUDED.holder OR lease.expires_at <= now()
                RETURNING epoch
                """).collect()
            return try rows.first?.decode(Int64.self)
        }
    }

    /// Who holds the lease now, under which epoch, and for how many more milliseconds (negative:
    /// lapsed); nil before anyone claimed it.
    public func lease() async throws -> (holder: String, epoch: Int64, remainingMilliseconds: Int64)? {
        try await bounded("lease") { [client] in
            let rows = try await client.query(
                "SELECT holder, epoch, (extract(epoch FROM (expires_at - now())) * 1000)::bigint FROM lease").collect()
            guard let row = rows.first else { return nil }
            let (holder, epoch, remaining) = try row.decode((String, Int64, Int64).self)
            return (holder, epoch, remaining)
        }
    }
}
#endif
