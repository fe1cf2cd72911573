import CallControl

/// Deadlines by key with the earliest found in O(log n): a binary min-heap beside a dictionary.
/// A cancelled or moved deadline stays in the heap until it comes up, and is skipped then (the
/// dictionary says what is current). Under load the SIP layer holds tens of thousands of timers
/// (every transaction's J, K, L…): a scan of all of them per message was the bottleneck.
struct TimerQueue<Key: Hashable> {
    private var current: [Key: Timestamp] = [:]
    private var heap: [(at: Timestamp, key: Key)] = []

    var count: Int { current.count }

    mutating func set(_ key: Key, at deadline: Timestamp) {
        current[key] = deadline
        heap.append((deadline, key))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].at < heap[parent].at else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func remove(_ key: Key) { current[key] = nil }

    /// The earliest current deadline.
    mutating func earliest() -> Timestamp? {
        while let top = heap.first {
            if current[top.key] == top.at { return top.at }
            popTop()
        }
        return nil
    }

    /// The keys due at `now`, earliest first, removed.
    mutating func popDue(now: Timestamp) -> [Key] {
        var due: [Key] = []
        while let top = heap.first, top.at <= now {
            popTop()
            if current[top.key] == top.at {
                current[top.key] = nil
                due.append(top.key)
            }
        }
        return due
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].at < heap[smallest].at { smallest = left }
            if right < heap.count, heap[right].at < heap[smallest].at { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
