//! The raw-pointer boundary: every conversion between a C pointer and a Rust
//! value goes through this module, so the unsafe code of the crate is here and
//! in the one-line calls that name their `# Safety` contract.

use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::result::{ocer_result, Failure};

/// A UTF-8 string as a pointer and a length in bytes.
///
/// As input: `ptr` may be NULL only when `len` is 0 (the empty string), and the
/// bytes are borrowed for the duration of the call only.
///
/// As output: the bytes belong to the object they were read from (or are static)
/// and stay valid and unchanged until that object is freed. They are not
/// NUL-terminated: print them with `printf("%.*s", OCER_STR_PRINTF(s))`. An absent
/// optional string is `{NULL, 0}`; a present empty one has a non-NULL `ptr`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ocer_str {
    /// The first byte; NULL for an absent string.
    pub ptr: *const u8,
    /// The number of bytes.
    pub len: usize,
}

impl ocer_str {
    /// The absent string, `{NULL, 0}`.
    pub(crate) const NONE: ocer_str = ocer_str {
        ptr: std::ptr::null(),
        len: 0,
    };

    /// A view of `s`; the caller keeps `s` alive as long as C may read it.
    pub(crate) fn of(s: &str) -> ocer_str {
        ocer_str {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    /// A view of `s`, or [`ocer_str::NONE`].
    pub(crate) fn of_opt(s: Option<&str>) -> ocer_str {
        s.map_or(Self::NONE, Self::of)
    }
}

/// An opaque C type that stands for a Rust value: a `*const Self` handed to C
/// is a `*const Self::Rust` in disguise, made by [`into_raw`] (owned) or
/// [`lend`] (borrowed from another object).
pub(crate) trait Object {
    /// The Rust value behind the pointer.
    type Rust;
}

/// Gives `value` to C as an owned object, freed by [`free`].
pub(crate) fn into_raw<O: Object>(value: O::Rust) -> *mut O {
    Box::into_raw(Box::new(value)).cast::<O>()
}

/// Gives C a borrowed view of `value`, which it must not free.
pub(crate) fn lend<O: Object>(value: &O::Rust) -> *const O {
    std::ptr::from_ref(value).cast::<O>()
}

/// The object behind `ptr`, or NULL_PARAMETER naming `what`.
///
/// # Safety
///
/// `ptr` is NULL or was made by [`into_raw`] or [`lend`] for this `O`, and the
/// value is alive and not mutated for `'a`.
pub(crate) unsafe fn borrow<'a, O: Object>(
    ptr: *const O,
    what: &'static str,
) -> Result<&'a O::Rust, Failure> {
    let ptr = ptr.cast::<O::Rust>();
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL, and by this function's contract a live `O::Rust` that
    // nobody mutates for 'a.
    Ok(unsafe { &*ptr })
}

/// The object behind `ptr`, mutably, or NULL_PARAMETER naming `what`.
///
/// # Safety
///
/// `ptr` is NULL or was made by [`into_raw`] for this `O`, is not freed, and
/// nothing else uses the value for `'a`.
pub(crate) unsafe fn borrow_mut<'a, O: Object>(
    ptr: *mut O,
    what: &'static str,
) -> Result<&'a mut O::Rust, Failure> {
    let ptr = ptr.cast::<O::Rust>();
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL, and by this function's contract a live, owned
    // `O::Rust` that nothing else uses for 'a.
    Ok(unsafe { &mut *ptr })
}

/// Takes back an object given to C; NULL gives `None`.
///
/// # Safety
///
/// `ptr` is NULL or was made by [`into_raw`] for this `O` and is not used by C
/// after this call.
pub(crate) unsafe fn take<O: Object>(ptr: *mut O) -> Option<O::Rust> {
    let ptr = ptr.cast::<O::Rust>();
    if ptr.is_null() {
        return None;
    }
    // SAFETY: by the contract, `ptr` came from `Box::into_raw` in `into_raw`
    // and ownership comes back here exactly once.
    Some(*unsafe { Box::from_raw(ptr) })
}

/// Frees an object given to C; NULL is a no-op.
///
/// # Safety
///
/// As for [`take`].
pub(crate) unsafe fn free<O: Object>(ptr: *mut O) {
    // SAFETY: the caller's contract is take's.
    drop(unsafe { take(ptr) });
}

/// Borrowed input bytes `(ptr, len)`.
///
/// # Safety
///
/// `ptr` is NULL or points to `len` readable bytes that stay unchanged for `'a`.
pub(crate) unsafe fn bytes_in<'a>(
    ptr: *const u8,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if isize::try_from(len).is_err() {
        return Err(Failure::new(
            ocer_result::OCER_RESULT_INVALID_ARGUMENT,
            format!("{what}: length {len} is larger than any object"),
        ));
    }
    // SAFETY: non-NULL, len fits isize, and by the contract `len` bytes are
    // readable and unchanged for 'a.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrowed input UTF-8 text `(ptr, len)`.
///
/// # Safety
///
/// As for [`bytes_in`].
pub(crate) unsafe fn str_in<'a>(
    ptr: *const u8,
    len: usize,
    what: &'static str,
) -> Result<&'a str, Failure> {
    // SAFETY: the caller's contract is bytes_in's.
    let bytes = unsafe { bytes_in(ptr, len, what) }?;
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            ocer_result::OCER_RESULT_INVALID_UTF8,
            format!(
                "{what} is not UTF-8: invalid byte at offset {}",
                e.valid_up_to()
            ),
        )
    })
}

/// An input [`ocer_str`] as text.
///
/// # Safety
///
/// As for [`bytes_in`], for `s.ptr` and `s.len`.
pub(crate) unsafe fn ocer_str_in<'a>(s: ocer_str, what: &'static str) -> Result<&'a str, Failure> {
    // SAFETY: the caller's contract is bytes_in's for the pair.
    unsafe { str_in(s.ptr, s.len, what) }
}

/// Borrowed input array `(ptr, count)`.
///
/// # Safety
///
/// `ptr` is NULL or points to `count` initialized, aligned `T`s that stay
/// unchanged for `'a`.
pub(crate) unsafe fn slice_in<'a, T>(
    ptr: *const T,
    count: usize,
    what: &'static str,
) -> Result<&'a [T], Failure> {
    if count == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if count
        .checked_mul(std::mem::size_of::<T>())
        .and_then(|n| isize::try_from(n).ok())
        .is_none()
    {
        return Err(Failure::new(
            ocer_result::OCER_RESULT_INVALID_ARGUMENT,
            format!("{what}: {count} elements are larger than any object"),
        ));
    }
    // SAFETY: non-NULL, the size fits isize, and by the contract `count`
    // initialized elements are readable for 'a.
    Ok(unsafe { std::slice::from_raw_parts(ptr, count) })
}

/// An optional input struct: NULL gives `None`.
///
/// # Safety
///
/// `ptr` is NULL or points to an initialized, aligned `T` that stays unchanged
/// for `'a`.
pub(crate) unsafe fn opt_in<'a, T>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: by the contract, NULL or valid for reads for 'a.
    unsafe { ptr.as_ref() }
}

/// Where an output goes: a non-NULL pointer the caller gave for writing.
///
/// Made only by [`out`], whose contract makes [`Out::put`] sound.
pub(crate) struct Out<'a, T> {
    ptr: NonNull<T>,
    _borrow: PhantomData<&'a mut T>,
}

impl<T> Out<'_, T> {
    /// Writes the output. The previous contents are not read or dropped (they
    /// may be uninitialized C memory).
    pub(crate) fn put(self, value: T) {
        // SAFETY: `out` checked the pointer is non-NULL and its contract says
        // it is valid and aligned for writing a `T`.
        unsafe { self.ptr.as_ptr().write(value) }
    }
}

/// An output pointer, or NULL_PARAMETER naming `what`. Check every output
/// pointer before doing any work, so that a call that fails on a NULL output
/// has no effect.
///
/// # Safety
///
/// `ptr` is NULL or valid and aligned for writing a `T` for `'a`.
pub(crate) unsafe fn out<'a, T>(ptr: *mut T, what: &'static str) -> Result<Out<'a, T>, Failure> {
    NonNull::new(ptr)
        .map(|ptr| Out {
            ptr,
            _borrow: PhantomData,
        })
        .ok_or_else(|| Failure::null(what))
}

/// A caller-provided output array `(ptr, capacity)`: NULL is allowed when
/// `capacity` is 0 (the call that asks for the count).
///
/// # Safety
///
/// `ptr` is NULL or valid and aligned for writing `capacity` `T`s for `'a`.
pub(crate) unsafe fn array_out<'a, T>(
    ptr: *mut T,
    capacity: usize,
    what: &'static str,
) -> Result<&'a mut [std::mem::MaybeUninit<T>], Failure> {
    if capacity == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if capacity
        .checked_mul(std::mem::size_of::<T>())
        .and_then(|n| isize::try_from(n).ok())
        .is_none()
    {
        return Err(Failure::new(
            ocer_result::OCER_RESULT_INVALID_ARGUMENT,
            format!("{what}: capacity {capacity} is larger than any object"),
        ));
    }
    // SAFETY: non-NULL, the size fits isize, and by the contract `capacity`
    // elements are writable for 'a; MaybeUninit makes no claim on the contents.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr.cast(), capacity) })
}

/// Copies `items` into a caller array: the count always goes to `count`; when
/// the array is too small the first `capacity` are written and the result is
/// INSUFFICIENT_SIZE.
pub(crate) fn fill<T: Copy>(
    array: &mut [std::mem::MaybeUninit<T>],
    count: Out<'_, usize>,
    items: impl ExactSizeIterator<Item = T>,
    what: &'static str,
) -> Result<(), Failure> {
    let n = items.len();
    for (slot, item) in array.iter_mut().zip(items) {
        slot.write(item);
    }
    count.put(n);
    if n > array.len() {
        return Err(Failure::new(
            ocer_result::OCER_RESULT_INSUFFICIENT_SIZE,
            format!("{what}: {n} needed, room for {}", array.len()),
        ));
    }
    Ok(())
}

/// Copies `bytes` and a NUL into a caller buffer: the length without the NUL
/// always goes to `len`; a buffer without room for all of it gets nothing and
/// the result is INSUFFICIENT_SIZE.
pub(crate) fn bytes_out_len(
    buf: &mut [std::mem::MaybeUninit<u8>],
    len: Out<'_, usize>,
    bytes: &[u8],
) -> Result<(), Failure> {
    len.put(bytes.len());
    if buf.len() <= bytes.len() {
        return Err(Failure::new(
            ocer_result::OCER_RESULT_INSUFFICIENT_SIZE,
            format!("{} bytes needed, room for {}", bytes.len() + 1, buf.len()),
        ));
    }
    for (slot, byte) in buf.iter_mut().zip(bytes.iter().copied().chain([0])) {
        slot.write(byte);
    }
    Ok(())
}
