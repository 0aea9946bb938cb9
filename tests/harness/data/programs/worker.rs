// A small Rust program for the tests of Rust crashes (tests/harness/support/programs.h):
// `worker panic` panics in expect(); `worker overflow` overflows a 64 KiB thread stack.
use std::collections::HashMap;
use std::thread;

fn parse_clause(depth: u64, buf: &mut [u8; 1024]) -> u64 {
    buf[0] = depth as u8;
    if depth == 0 {
        return buf[0] as u64;
    }
    let mut next = [0u8; 1024];
    parse_clause(depth - 1, &mut next) + buf[(depth % 1024) as usize] as u64
}

fn lookup(index: &HashMap<u32, u32>, id: u32) -> u32 {
    *index.get(&id).expect("record id in index")
}

fn main() {
    if std::env::args().nth(1).unwrap_or_default() == "panic" {
        let index = HashMap::new();
        println!("{}", lookup(&index, 7));
    } else {
        let worker = thread::Builder::new().name("filter-worker".into()).stack_size(64 * 1024);
        let handle = worker.spawn(|| {
            let mut buf = [0u8; 1024];
            println!("{}", parse_clause(1_000_000, &mut buf))
        });
        handle.unwrap().join().unwrap();
    }
}
