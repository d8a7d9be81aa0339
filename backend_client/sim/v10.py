"""Interface 1.0, derived from the shipped 1.1 WSDL the way kiosk-platform.md says it can be.

"Removing [every element marked since 1.1], the new types and the six new
operations gives the 1.0 WSDL back." The simulator uses this to play a
province that has not upgraded (``PlatformSim(platform_version="1.0")``): its
schema refuses ``header.interfaceVersion`` and every 1.1 element, and it knows
none of the six operations. Tests use it to check that a 1.0-mode answer of the
1.1 platform is valid 1.0.
"""

from __future__ import annotations

import functools

from lxml import etree

from backend_client.wsdl import OPERATIONS_V11, schema_of, violations, wsdl_bytes

_XS = "http://www.w3.org/2001/XMLSchema"
_WSDL = "http://schemas.xmlsoap.org/wsdl/"


def _since_11(el: etree._Element) -> bool:
    return any(
        (a.text or "").strip() == "since 1.1" for a in el.findall(f"{{{_XS}}}annotation/{{{_XS}}}appinfo")
    )


@functools.cache
def wsdl_v10() -> bytes:
    """The 1.0 WSDL: the 1.1 file less its 1.1 elements, enumerations and operations."""
    doc = etree.fromstring(wsdl_bytes())
    for el in list(doc.iter(f"{{{_XS}}}element", f"{{{_XS}}}enumeration")):
        if _since_11(el):
            el.getparent().remove(el)
    schema = doc.find(f"{{{_WSDL}}}types/{{{_XS}}}schema")
    assert schema is not None
    new_elements = set(OPERATIONS_V11) | {f"{op}Response" for op in OPERATIONS_V11}
    for el in list(schema.findall(f"{{{_XS}}}element")):
        if el.get("name") in new_elements:
            schema.remove(el)
    for msg in list(doc.findall(f"{{{_WSDL}}}message")):
        if any(msg.get("name") in (f"{op}In", f"{op}Out") for op in OPERATIONS_V11):
            doc.remove(msg)
    for parent in (*doc.findall(f"{{{_WSDL}}}portType"), *doc.findall(f"{{{_WSDL}}}binding")):
        for op in list(parent.findall(f"{{{_WSDL}}}operation")):
            if op.get("name") in OPERATIONS_V11:
                parent.remove(op)
    # The 1.1 named types are no longer referenced; they are left in place (unused types change nothing).
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")


@functools.cache
def schema_v10() -> etree.XMLSchema:
    return schema_of(wsdl_v10())


def errors_v10(element: etree._Element) -> list[tuple[str, str]]:
    """(element local name, message) per violation of the 1.0 schema, as a 1.0 platform names them."""
    return violations(schema_v10(), element)
