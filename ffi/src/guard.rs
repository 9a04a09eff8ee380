//! The panic guard every entry point runs in, and the per-thread detail of
//! the last failure (`ocer_last_error_message`).

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::ptr::{self, bytes_out_len};
use crate::result::{ocer_result, Failure};

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_last_error(detail: String) {
    // During thread teardown the slot may be gone; the code is still returned.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = detail;
        }
    });
}

fn panic_detail(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    format!("panic inside ocer: {message}")
}

/// Runs the body of an entry point: a failure becomes its code (and the
/// thread's last error), a panic becomes `OCER_RESULT_PANIC` instead of
/// unwinding into C, which would be undefined behavior.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> ocer_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => ocer_result::OCER_RESULT_OK,
        Ok(Err(failure)) => {
            set_last_error(failure.detail);
            failure.code
        }
        Err(payload) => {
            set_last_error(panic_detail(payload.as_ref()));
            ocer_result::OCER_RESULT_PANIC
        }
    }
}

/// [`guard`] for the `_free` functions, which return nothing: a panic is
/// recorded as the thread's last error and goes no further.
pub(crate) fn guard_free(body: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        set_last_error(panic_detail(payload.as_ref()));
    }
}

/// Copies the detail of the most recent failed call on the calling thread
/// into `buf`, NUL-terminated (empty when no call has failed on this thread).
///
/// `*len_out` receives the message's length in bytes without the NUL, whatever
/// the outcome. When `capacity` is below that length + 1, nothing is written
/// and the result is `OCER_RESULT_INSUFFICIENT_SIZE`: call again with a larger
/// buffer (`buf` may be NULL when `capacity` is 0). The message is UTF-8 and
/// may span several lines (a locale's problems, one per line).
///
/// This call, and `ocer_result_describe`, never change the last error.
///
/// Thread-safety: each thread has its own last error.
///
/// # Safety
///
/// `buf` is NULL or valid for writing `capacity` bytes; `len_out` is valid
/// for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn ocer_last_error_message(
    buf: *mut u8,
    capacity: usize,
    len_out: *mut usize,
) -> ocer_result {
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), Failure> {
        // SAFETY: the caller's contract for len_out.
        let len_out = unsafe { ptr::out(len_out, "len_out") }?;
        // SAFETY: the caller's contract for buf and capacity.
        let buf = unsafe { ptr::array_out(buf, capacity, "buf") }?;
        let detail = LAST_ERROR
            .try_with(|slot| slot.try_borrow().map(|s| s.clone()).unwrap_or_default())
            .unwrap_or_default();
        bytes_out_len(buf, len_out, detail.as_bytes())
    }));
    match outcome {
        Ok(Ok(())) => ocer_result::OCER_RESULT_OK,
        Ok(Err(failure)) => failure.code,
        Err(_) => ocer_result::OCER_RESULT_PANIC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        let mut buf = [0u8; 256];
        let mut len = 0;
        // SAFETY: both pointers are valid for the sizes given.
        let r = unsafe { ocer_last_error_message(buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(r, ocer_result::OCER_RESULT_OK);
        assert_eq!(buf[len], 0);
        String::from_utf8(buf[..len].to_vec()).unwrap()
    }

    #[test]
    fn a_panic_becomes_its_code_and_message() {
        let r = guard(|| panic!("boom {}", 7));
        assert_eq!(r, ocer_result::OCER_RESULT_PANIC);
        assert_eq!(last_error(), "panic inside ocer: boom 7");
        guard_free(|| panic!("in free"));
        assert_eq!(last_error(), "panic inside ocer: in free");
    }

    #[test]
    fn a_failure_sets_the_last_error_and_success_keeps_it() {
        let r = guard(|| Err(Failure::invalid("bad mode 99")));
        assert_eq!(r, ocer_result::OCER_RESULT_INVALID_ARGUMENT);
        assert_eq!(guard(|| Ok(())), ocer_result::OCER_RESULT_OK);
        assert_eq!(last_error(), "bad mode 99");
    }

    #[test]
    fn a_small_buffer_gets_nothing_but_the_length() {
        let _ = guard(|| Err(Failure::invalid("twelve chars")));
        let mut buf = [0xAAu8; 12];
        let mut len = 0;
        // SAFETY: both pointers are valid for the sizes given.
        let r = unsafe { ocer_last_error_message(buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(r, ocer_result::OCER_RESULT_INSUFFICIENT_SIZE);
        assert_eq!(len, 12);
        assert!(buf.iter().all(|b| *b == 0xAA));
        // SAFETY: NULL with capacity 0 is allowed; len is valid.
        let r = unsafe { ocer_last_error_message(std::ptr::null_mut(), 0, &mut len) };
        assert_eq!(r, ocer_result::OCER_RESULT_INSUFFICIENT_SIZE);
        assert_eq!(len, 12);
        // SAFETY: a NULL len_out is reported, not written.
        let r = unsafe { ocer_last_error_message(buf.as_mut_ptr(), 12, std::ptr::null_mut()) };
        assert_eq!(r, ocer_result::OCER_RESULT_NULL_PARAMETER);
        assert_eq!(last_error(), "twelve chars");
    }

    #[test]
    fn each_thread_has_its_own() {
        let _ = guard(|| Err(Failure::invalid("main thread")));
        std::thread::spawn(|| assert_eq!(last_error(), ""))
            .join()
            .unwrap();
        assert_eq!(last_error(), "main thread");
    }
}
