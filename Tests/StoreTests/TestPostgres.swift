#if PostgreSQL
import Foundation

/// The PostgreSQL server the store tests use (scripts/test starts one on loopback): each test gets
/// a database of its own, made with `createdb`, so tests never see each other's rows.
enum TestPostgres {
    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "SWITCHBOARD_TEST_POSTGRES is not set: the PostgreSQL build's store tests need a server (scripts/test starts one)"
        }
    }

    /// The server's URL (its `postgres` database).
    static func server() throws -> URLComponents {
        guard let text = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_POSTGRES"], let url = URLComponents(string: text)
        else { throw Missing() }
        return url
    }

    /// A new, empty database; its URL.
    static func newDatabase() throws -> String {
        var url = try server()
        let name = "switchboard_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
        let createdb = Process()
        createdb.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        createdb.arguments = ["createdb", "-h", url.host ?? "127.0.0.1", "-p", String(url.port ?? 5432), "-U", url.user ?? "postgres", name]
        try createdb.run()
        createdb.waitUntilExit()
        guard createdb.terminationStatus == 0 else { throw CreateFailed(name: name) }
        url.path = "/" + name
        return url.string!
    }

    struct CreateFailed: Error { var name: String }
}
#endif
