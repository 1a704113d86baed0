/* jremus test guest: one image at 1 MiB, entered through the PVH note.
 * Run through cpp (see Makefile) for the sizes in abi.h. */
#include "abi.h"
ENTRY(pvh_entry)

PHDRS
{
	image PT_LOAD FLAGS(7);
	note  PT_NOTE FLAGS(4);
}

SECTIONS
{
	. = 0x100000;
	_image_start = .;
	.text : {
		*(.text.boot)
		*(.text .text.*)
	} :image
	.note : { *(.note.Xen) } :image :note
	.rodata : { *(.rodata .rodata.*) } :image
	.data : {
		*(.data.pagetables)
		*(.data .data.*)
	} :image
	/* bss of the ring-0 kernel, zeroed at boot by kernel/boot.S */
	.bss (NOLOAD) : ALIGN(64) {
		_kbss_start = .;
		*/kernel/[a-z]*.o(.bss .bss.* COMMON)
		. = ALIGN(8);
		_kbss_end = .;
	} :image
	/* bss of the ring-3 program, zeroed by user/crt0.S */
	.ubss (NOLOAD) : ALIGN(64) {
		_ubss_start = .;
		*(.bss .bss.* COMMON)
		. = ALIGN(8);
		_ubss_end = .;
	} :image
	/* stacks are never zeroed */
	.stacks (NOLOAD) : ALIGN(4096) {
		kstacks = .;
		. += JG_MAXCPU * JG_KSTACK;
		ustacks = .;
		. += JG_MAXCPU * JG_USTACK;
	} :image
	. = ALIGN(4096);
	_end = .;
	/DISCARD/ : { *(.comment) *(.note.*) *(.eh_frame) }
}
