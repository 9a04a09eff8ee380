//! ErrorId catalogs of MS-OCER Appendix B (section 7) and Appendix C (section 8).
