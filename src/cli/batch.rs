//! Items through a verb's work in input order, on one thread or several:
//! what `score` and `explain` share.

use std::path::PathBuf;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};

use satire::io::{Item, ItemReader};

/// Rows emitted between flushes of the output, at most.
const FLUSH_ROWS: usize = 4096;
/// Items in a chunk of a parallel run, at most: about 6 ms of work on
/// headlines.
const CHUNK_ITEMS: usize = 2048;
/// Text bytes in a chunk of a parallel run, about: about 3 ms of work on
/// articles, so that the last chunk keeps one thread busy only briefly.
/// Chunks of 128 KiB cost three times the context switches (3,100 against
/// 1,000 on 100 MB of articles, two threads) and about 2% more CPU time.
const CHUNK_BYTES: usize = 512 << 10;
/// The first chunk's limits are these divided by this; each chunk after it
/// doubles them, up to the full size, so that work starts (and the first
/// rows come out) after 64 KiB or 256 items, not 512 KiB.
const FIRST_CHUNK_SHARE: usize = 8;
/// Chunks read and not yet emitted, at most, per worker: each worker can
/// take its next chunk while its last one waits to be emitted behind a
/// slower one. A fixed count of 8 left all but 8 workers idle on a machine
/// with more cores.
const IN_FLIGHT_PER_WORKER: usize = 2;
/// Chunks read and not yet emitted, at most, however few the workers: with
/// [`CHUNK_BYTES`], 4 MiB of text.
const IN_FLIGHT_LEAST: usize = 8;

/// Chunks read and not yet emitted, at most, with `workers` workers: 4 MiB
/// of text with up to 4 workers, 1 MiB a worker with more.
fn in_flight(workers: usize) -> usize {
    workers
        .saturating_mul(IN_FLIGHT_PER_WORKER)
        .max(IN_FLIGHT_LEAST)
}
/// How long the emitting thread waits for a chunk before it flushes the
/// rows written so far.
const FLUSH_AFTER: std::time::Duration = std::time::Duration::from_millis(20);

/// A verb's work on every item of `paths`: `work` with `workers`, one
/// per thread (as many threads as workers, at least one). Each worker
/// (a scorer, with its memo of common words) serves one thread for the
/// whole run.
pub struct Batches<'a, W, F> {
    pub reader: ItemReader,
    pub paths: &'a [PathBuf],
    pub workers: Vec<W>,
    pub work: F,
}

impl<W: Send, O: Send, F: Fn(&mut W, Item) -> O + Send + Sync> Batches<'_, W, F> {
    /// Runs the work, and `emit` on each result in input order; `emit`
    /// gets `None` now and then, and at the end, to flush what it wrote,
    /// so that a reader downstream sees rows soon. `emit` returning
    /// `Ok(false)` stops the run (`--strict` after an error). Returns
    /// whether it did.
    ///
    /// With one worker, reading, working and writing take turns on this
    /// thread. With more, see [`Batches::in_parallel`].
    pub fn in_order(
        self,
        emit: &mut impl FnMut(Option<O>) -> satire::Result<bool>,
    ) -> anyhow::Result<bool> {
        let Batches {
            reader,
            paths,
            workers,
            work,
        } = self;
        if workers.len() > 1 {
            return Self::in_parallel(reader, paths, workers, &work, emit);
        }
        let Some(mut worker) = workers.into_iter().next() else {
            anyhow::bail!("no worker to do the work: at least one is needed");
        };
        let mut stopped = false;
        let mut n = 0usize;
        // Shared with the wait for standard input, which flushes the rows
        // written so far; it is never called while a row is emitted.
        let emit = std::cell::RefCell::new(emit);
        // A flush that failed while waiting for input: the run ends there,
        // with that error, rather than at the next item, which may be long
        // in coming (a pipeline's reader gone, its writer still open).
        let mut failed_waiting = None;
        let result = reader.for_each_waiting(
            paths,
            |item| {
                n += 1;
                let mut emit = emit.try_borrow_mut().map_err(|_| busy())?;
                if n.is_multiple_of(FLUSH_ROWS) {
                    emit(None)?;
                }
                if emit(Some(work(&mut worker, item)))? {
                    Ok(())
                } else {
                    stopped = true;
                    Err(satire::Error::Data("stopped".into()))
                }
            },
            || {
                let Ok(mut emit) = emit.try_borrow_mut() else {
                    return true;
                };
                match emit(None) {
                    Ok(_) => true,
                    Err(e) => {
                        failed_waiting = Some(e);
                        false
                    }
                }
            },
        );
        if let Some(e) = failed_waiting {
            return Err(e.into());
        }
        let mut emit = emit.try_borrow_mut().map_err(|_| busy())?;
        match result {
            Err(_) if stopped => Ok(true),
            Err(e) => Err(e.into()),
            Ok(()) => {
                emit(None)?;
                Ok(false)
            }
        }
    }

    /// Three stages, joined by channels: a reader thread cuts the input
    /// into numbered chunks, one thread per worker takes the next chunk
    /// whenever it is free and works through it, and this thread emits
    /// the finished chunks in input order, holding back any that finish
    /// early.
    ///
    /// No thread waits for another's chunk to finish before taking its
    /// next: with a batch for all the workers at a time, a worker that
    /// finished its share waited for the others at the end of every
    /// batch, and with the reader as a third busy thread on two cores,
    /// the one it waited for was often the one the system had paused
    /// (two threads kept 1.83 cores busy).
    ///
    /// At most [`in_flight`] chunks are read and not yet emitted: memory
    /// stays bounded whatever the input size, and however far one slow
    /// chunk holds the others back.
    ///
    /// The reader is a thread of its own, outside the scope of the
    /// workers, and is waited for only when the run ends by reading all
    /// the input: a run that stops early (`--strict`, a write that fails,
    /// a panic) returns at once, where waiting would last until standard
    /// input, still open in a pipeline, gave another item or ended. Left
    /// behind, the reader stops at its next chunk (its channels are
    /// closed) or when the process exits.
    fn in_parallel(
        reader: ItemReader,
        paths: &[PathBuf],
        workers: Vec<W>,
        work: &F,
        emit: &mut impl FnMut(Option<O>) -> satire::Result<bool>,
    ) -> anyhow::Result<bool> {
        use std::sync::mpsc::{channel, sync_channel, RecvTimeoutError};
        // A chunk may be read only with a credit, which comes back once
        // the chunk is emitted.
        let in_flight = in_flight(workers.len());
        let (credit_tx, credit_rx) = sync_channel::<()>(in_flight);
        for _ in 0..in_flight {
            // Cannot fail: the receiver is alive and there is room.
            let _ = credit_tx.send(());
        }
        // Shared by the workers, and dropped with the last of them, so that
        // the reader stops when no worker is left.
        let (todo_tx, todo_rx) = sync_channel::<(usize, Vec<Item>)>(in_flight);
        let todo_rx = Arc::new(Mutex::new(todo_rx));
        // The reader's end, closed by the reader when it returns (or
        // panics), or by this thread when the run stops early: then the
        // workers waiting for a chunk stop at once, not when the reader
        // next wakes. A send never waits for room while holding the lock:
        // the reader sends only with a credit, so fewer than `in_flight`
        // chunks are queued then.
        let todo_tx = Arc::new(Mutex::new(Some(todo_tx)));
        let paths = paths.to_vec();
        let closes = Closes(Arc::clone(&todo_tx));
        let read = std::thread::Builder::new()
            .name("satire-reader".into())
            .spawn(move || {
                let mut number = 0usize;
                // Either end hangs up only when the run stops early.
                let send = move |chunk: Vec<Item>| -> satire::Result<()> {
                    credit_rx
                        .recv()
                        .ok()
                        .and_then(|()| {
                            let todo = closes.0.lock().ok()?;
                            todo.as_ref()?.send((number, chunk)).ok()
                        })
                        .ok_or_else(|| satire::Error::Data("stopped".into()))?;
                    number += 1;
                    Ok(())
                };
                // The chunk being read, its text bytes, its share of the
                // full size, and `send`: shared with the wait for standard
                // input, which sends the items read so far on (the
                // emitting thread flushes their rows once no more come). It
                // is never called while an item is added.
                let state = std::cell::RefCell::new((Vec::new(), 0usize, FIRST_CHUNK_SHARE, send));
                let result = reader.for_each_waiting(
                    &paths,
                    |item| {
                        let mut state = state.try_borrow_mut().map_err(|_| busy())?;
                        let (chunk, size, share, send) = &mut *state;
                        *size += item.text.as_ref().map_or(0, |t| t.len());
                        chunk.push(item);
                        if chunk.len() >= CHUNK_ITEMS / *share || *size >= CHUNK_BYTES / *share {
                            *size = 0;
                            *share = (*share / 2).max(1);
                            send(std::mem::take(chunk))?;
                        }
                        Ok(())
                    },
                    || {
                        let Ok(mut state) = state.try_borrow_mut() else {
                            return true;
                        };
                        let (chunk, size, _, send) = &mut *state;
                        if chunk.is_empty() {
                            return true;
                        }
                        *size = 0;
                        // A send fails only when the run has stopped:
                        // then reading stops too.
                        send(std::mem::take(chunk)).is_ok()
                    },
                );
                // Rows read before an input error come out too, as with
                // one thread.
                let (chunk, _, _, mut send) = state.into_inner();
                if !chunk.is_empty() {
                    let _ = send(chunk);
                }
                result
            })
            .map_err(|e| anyhow::anyhow!("cannot start the reading thread: {e}"))?;
        std::thread::scope(|scope| {
            // A worker's chunk, or `None` if its work panicked.
            let (done_tx, done_rx) = channel::<Option<(usize, Vec<O>)>>();
            let working: Vec<_> = workers
                .into_iter()
                .map(|mut worker| {
                    let (todo_rx, done_tx) = (todo_rx.clone(), done_tx.clone());
                    scope.spawn(move || loop {
                        let next = todo_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        // The reader is done (or stopped) and no chunk is left.
                        let Ok((number, chunk)) = next else { break };
                        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            chunk
                                .into_iter()
                                .map(|item| work(&mut worker, item))
                                .collect::<Vec<O>>()
                        }));
                        let failed = done.is_err();
                        // The receiver hangs up only when the run stops early.
                        if done_tx.send(done.ok().map(|d| (number, d))).is_err() || failed {
                            break;
                        }
                    })
                })
                .collect();
            drop((done_tx, todo_rx));
            let mut stopped = false;
            let mut panicked = false;
            // On an error or a panicked worker, leaving the loop drops
            // `done_rx` and `credit_tx`, which stops the other stages.
            let emitted = (|| {
                let mut waiting = std::collections::BTreeMap::new();
                let (mut next, mut unflushed) = (0usize, 0usize);
                loop {
                    // Rows written are flushed before a long wait for more,
                    // so that a reader downstream sees them soon, and every
                    // `FLUSH_ROWS` rows or so.
                    let got = match done_rx.recv_timeout(FLUSH_AFTER) {
                        Err(RecvTimeoutError::Timeout) => {
                            if unflushed > 0 {
                                emit(None)?;
                                unflushed = 0;
                            }
                            done_rx.recv().ok()
                        }
                        got => got.ok(),
                    };
                    let Some(got) = got else { break };
                    let Some((number, done)) = got else {
                        panicked = true;
                        break;
                    };
                    waiting.insert(number, done);
                    while let Some(done) = waiting.remove(&next) {
                        for o in done {
                            unflushed += 1;
                            if !emit(Some(o))? {
                                stopped = true;
                                return Ok(());
                            }
                        }
                        next += 1;
                        // The reader may have stopped already.
                        let _ = credit_tx.send(());
                        if unflushed >= FLUSH_ROWS {
                            emit(None)?;
                            unflushed = 0;
                        }
                    }
                }
                emit(None)?;
                Ok::<(), satire::Error>(())
            })();
            drop(done_rx);
            drop(credit_tx);
            close(&todo_tx);
            let joined = working.into_iter().all(|w| w.join().is_ok());
            if panicked || !joined {
                anyhow::bail!("a working thread panicked");
            }
            emitted?;
            if stopped {
                return Ok(true);
            }
            // Every chunk came out, so the reader is done: its channel to
            // the workers closed when it returned.
            match read.join() {
                Ok(result) => Ok(result.map(|()| false)?),
                Err(_) => anyhow::bail!("the reader thread panicked"),
            }
        })
    }
}

/// A sender shared between threads, either of which may close it.
type SharedSender<T> = Arc<Mutex<Option<SyncSender<T>>>>;

/// Closes a shared sender when dropped, however its owner ends.
struct Closes<T>(SharedSender<T>);

impl<T> Drop for Closes<T> {
    fn drop(&mut self) {
        close(&self.0);
    }
}

/// Drops the sender: receivers, once they have taken what is queued, see
/// the channel closed.
fn close<T>(tx: &Mutex<Option<SyncSender<T>>>) {
    drop(tx.lock().unwrap_or_else(|e| e.into_inner()).take());
}

/// The error for state shared with the wait for standard input found in
/// use, which it never is: the wait runs only between items.
fn busy() -> satire::Error {
    satire::Error::Data("internal: an item was handled during a wait for input".into())
}

/// `--threads`: the number asked for, or one per core.
pub fn threads(asked: Option<usize>) -> anyhow::Result<usize> {
    match asked {
        Some(0) => anyhow::bail!("--threads must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use satire::io::{Columns, StdinFormat};
    use std::sync::Mutex;

    /// A CSV of `n` rows, ids `0` to `n - 1`.
    fn csv_of(n: usize) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("rows.csv");
        let mut text = String::from("id,text\n");
        for i in 0..n {
            text.push_str(&format!("{i},row number {i}\n"));
        }
        std::fs::write(&path, text).expect("the CSV is written");
        (dir, path)
    }

    fn reader() -> ItemReader {
        ItemReader::new(Columns::default(), StdinFormat::Text, u64::MAX)
    }

    /// Runs `work` over `n` rows with `threads` workers (numbered), and
    /// returns the result, what was emitted (`None` for a flush) and
    /// each row's worker.
    fn run(
        n: usize,
        threads: usize,
        work: impl Fn(&mut usize, Item) -> (String, usize) + Send + Sync,
        stop_at: Option<usize>,
    ) -> (anyhow::Result<bool>, Vec<Option<(String, usize)>>) {
        let (_dir, path) = csv_of(n);
        let paths = [path];
        let mut emitted = Vec::new();
        let mut rows = 0;
        let result = Batches {
            reader: reader(),
            paths: &paths,
            workers: (0..threads).collect(),
            work,
        }
        .in_order(&mut |o| {
            rows += usize::from(o.is_some());
            emitted.push(o);
            Ok(stop_at != Some(rows))
        });
        (result, emitted)
    }

    fn ids(emitted: &[Option<(String, usize)>]) -> Vec<String> {
        emitted.iter().flatten().map(|(id, _)| id.clone()).collect()
    }

    fn numbers(n: usize) -> Vec<String> {
        (0..n).map(|i| i.to_string()).collect()
    }

    #[test]
    fn rows_come_out_in_input_order_whichever_chunk_finishes_first() {
        // The first chunk is slow: every later one is done before it, by
        // the other workers, and must wait to be emitted after it.
        let work = |w: &mut usize, item: Item| {
            if item.id.parse::<usize>().is_ok_and(|i| i < CHUNK_ITEMS) {
                std::thread::sleep(std::time::Duration::from_micros(20));
            }
            (item.id, *w)
        };
        for threads in [1, 2, 3] {
            let (result, emitted) = run(10_000, threads, work, None);
            assert!(!result.expect("the run succeeds"), "not stopped");
            assert_eq!(ids(&emitted), numbers(10_000), "{threads} threads");
            assert!(
                emitted.last().is_some_and(Option::is_none),
                "flushed at the end"
            );
            let mut used: Vec<usize> = emitted.iter().flatten().map(|&(_, w)| w).collect();
            used.sort_unstable();
            used.dedup();
            // While one worker is on the slow chunk, another does the rest.
            assert!(used.len() >= threads.min(2), "workers used: {used:?}");
        }
    }

    #[test]
    fn every_worker_holds_a_chunk_at_once_however_many_there_are() {
        // Each worker waits in its first item until all of them are in
        // theirs: each holds a chunk at the same time. With 8 chunks in
        // flight at most, whatever the workers, 8 of 16 got none until
        // the first 8 were emitted, and those waited here in vain.
        let threads = 16;
        let arrived = std::sync::atomic::AtomicUsize::new(0);
        let waited_in_vain = std::sync::atomic::AtomicUsize::new(0);
        let work = |w: &mut (usize, bool), item: Item| {
            use std::sync::atomic::Ordering::SeqCst;
            if !w.1 {
                w.1 = true;
                arrived.fetch_add(1, SeqCst);
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                while arrived.load(SeqCst) < threads {
                    if std::time::Instant::now() > deadline {
                        waited_in_vain.fetch_add(1, SeqCst);
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
            (item.id, w.0)
        };
        // Enough rows for a chunk each, the first chunks being smaller.
        let n = CHUNK_ITEMS * (threads + 2);
        let (_dir, path) = csv_of(n);
        let paths = [path];
        let mut emitted = Vec::new();
        let result = Batches {
            reader: reader(),
            paths: &paths,
            workers: (0..threads).map(|w| (w, false)).collect(),
            work,
        }
        .in_order(&mut |o| {
            emitted.push(o);
            Ok(true)
        });
        assert!(!result.expect("the run succeeds"), "not stopped");
        assert_eq!(ids(&emitted), numbers(n));
        assert_eq!(
            waited_in_vain.into_inner(),
            0,
            "workers left without a chunk"
        );
        assert_eq!(arrived.into_inner(), threads);
    }

    #[test]
    fn a_stop_ends_the_run_with_no_row_after_it() {
        for threads in [1, 2] {
            let (result, emitted) = run(20_000, threads, |w, i| (i.id, *w), Some(5_000));
            assert!(result.expect("the run succeeds"), "stopped");
            assert_eq!(ids(&emitted), numbers(5_000), "{threads} threads");
        }
    }

    #[test]
    fn rows_read_before_an_input_error_all_come_out_with_any_thread_count() {
        // The second file lacks the text column: the reader stops there
        // with an error, after 3,000 rows (a full chunk and part of one).
        let (dir, good) = csv_of(3_000);
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "id,body\n1,no text column\n").expect("written");
        let paths = [good, bad];
        for threads in [1, 2, 3] {
            let mut emitted = Vec::new();
            let result = Batches {
                reader: reader(),
                paths: &paths,
                workers: (0..threads).collect(),
                work: |_: &mut usize, item: Item| (item.id, 0),
            }
            .in_order(&mut |o| {
                emitted.push(o);
                Ok(true)
            });
            let err = result.expect_err("the bad file stops the run");
            assert!(err.to_string().contains("bad.csv"), "{err}");
            let ids = ids(&emitted);
            assert_eq!(ids.len(), 3_000, "{threads} threads");
            assert_eq!(ids, numbers(3_000), "{threads} threads");
        }
    }

    #[test]
    fn a_panicking_worker_stops_the_run_with_an_error() {
        // Every row before the panicking one may come out, in order, and
        // none after it; the run ends (no thread waits for ever).
        let tried = Mutex::new(0usize);
        let work = |w: &mut usize, item: Item| {
            *tried.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            assert_ne!(item.id, "2500", "the test's panic");
            (item.id, *w)
        };
        let (result, emitted) = run(40_000, 2, work, None);
        let err = result.expect_err("the panic is an error");
        assert!(err.to_string().contains("panicked"), "{err}");
        let ids = ids(&emitted);
        assert!(ids.len() <= 2_500, "{} rows", ids.len());
        assert_eq!(ids, numbers(ids.len()));
        // The reader stopped soon after: it did not read the whole input.
        let tried = *tried.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            tried < 2_500 + in_flight(2) * CHUNK_ITEMS + CHUNK_ITEMS,
            "{tried} tried"
        );
    }
}
