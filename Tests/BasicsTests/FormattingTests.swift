import Basics
import Testing

/// One rounding for every `duration_ms` botops writes (verify's JSON, deploy events, the audit).
struct FormattingTests {
    @Test func wholeMillisecondsRoundsToTheNearest() {
        #expect(wholeMilliseconds(.microseconds(1499)) == 1)
        #expect(wholeMilliseconds(.microseconds(1500)) == 2)
        #expect(wholeMilliseconds(.microseconds(999_600)) == 1000)
        #expect(wholeMilliseconds(.zero) == 0)
        #expect(wholeMilliseconds(.seconds(86400)) == 86_400_000)
    }

    @Test func wholeMillisecondsSaturatesInsteadOfTrapping() {
        #expect(wholeMilliseconds(.seconds(Int64.max)) == .max)
        #expect(wholeMilliseconds(.seconds(Int64.min)) == .min)
    }
}
