import Center
import Foundation
import Testing

/// A report's hours and days are the center's time zone's: a day runs from local midnight to local
/// midnight, 23 hours when the clocks go forward and 25 when they go back.
@Suite struct ReportIntervalTests {
    let paris = TimeZone(identifier: "Europe/Paris")!

    /// ms since 1970 of a UTC moment.
    func utc(_ text: String) -> Int64 {
        Int64(ISO8601DateFormatter().date(from: text)!.timeIntervalSince1970 * 1000)
    }

    @Test func aDayRunsFromLocalMidnightToLocalMidnight() {
        // 2026-12-07 10:00 UTC is 11:00 in Paris (UTC+1); the day began at 23:00 UTC the day before.
        let (start, end) = ContactCenter.bounds(of: utc("2026-12-07T10:00:00Z"), .day, in: paris)
        #expect(start == utc("2026-12-06T23:00:00Z") && end == utc("2026-12-07T23:00:00Z"))
    }

    @Test func theDayTheClocksGoForwardHas23HoursAndTheDayTheyGoBack25() {
        let (springStart, springEnd) = ContactCenter.bounds(of: utc("2026-03-29T12:00:00Z"), .day, in: paris)
        #expect(springEnd - springStart == 23 * 3_600_000)
        let (autumnStart, autumnEnd) = ContactCenter.bounds(of: utc("2026-10-25T12:00:00Z"), .day, in: paris)
        #expect(autumnEnd - autumnStart == 25 * 3_600_000)
        // The quarters before and after the change, on one side of 02:00 and the other, are one day.
        #expect(ContactCenter.bounds(of: utc("2026-03-29T00:45:00Z"), .day, in: paris).0 == springStart)
        #expect(ContactCenter.bounds(of: utc("2026-03-29T01:00:00Z"), .day, in: paris).0 == springStart)
    }

    @Test func anHourIsTheLocalClocksAndAQuarterItsOwn() {
        // India is UTC+5:30: its hours start at half past in UTC.
        let india = TimeZone(identifier: "Asia/Kolkata")!
        let (start, end) = ContactCenter.bounds(of: utc("2026-12-07T10:45:00Z"), .hour, in: india)
        #expect(start == utc("2026-12-07T10:30:00Z") && end == utc("2026-12-07T11:30:00Z"))
        let quarter = ContactCenter.bounds(of: utc("2026-12-07T10:45:00Z"), .quarter, in: india)
        #expect(quarter.0 == utc("2026-12-07T10:45:00Z") && quarter.1 == utc("2026-12-07T11:00:00Z"))
    }
}
