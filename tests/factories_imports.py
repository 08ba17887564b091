"""XLSX files for the import tests and the import benchmark (issue 7, part 2)."""

import io

from django.conf import settings
from openpyxl import Workbook

from providers.resources import HEADERS as PROVIDER_HEADERS
from tangshan_portal.demo import city_division_code, sequential_uscc

PROVIDER_COLUMNS = list(PROVIDER_HEADERS)


def import_uscc(n):
    # Tag "X" keeps the series apart from the factories' ("P", "E") and seed_demo's codes.
    return sequential_uscc(n, city_division_code(settings.PORTAL_COUNTIES), tag="X")


def provider_row(n, county_code, **overrides):
    row = {
        "name": f"导入测试科技有限公司{n:05d}",
        "uscc": import_uscc(n),
        "legal_representative": "张三",
        "address": f"唐山市路北区建设路{n}号",
        "business_scope": "软件开发",
        "registered_capital": "100.00",
        "provider_type": "integrated",
        "county": county_code,
        "scenarios": "",
        "contact_name": "李四",
        "contact_phone": "0315-1234567",
        "contact_email": "",
    }
    row.update(overrides)
    return row


def xlsx_bytes(rows, columns=PROVIDER_COLUMNS, headers=PROVIDER_HEADERS):
    """A one-sheet workbook as the user would upload it: the Chinese header row, then the rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([headers[name] for name in columns])
    for row in rows:
        sheet.append([row.get(name, "") for name in columns])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text, as in a file saved from our export
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def provider_dataset(rows):
    from import_export.formats.base_formats import XLSX

    return XLSX().create_dataset(xlsx_bytes(rows))


def read_xlsx(content, sheet=None):
    """The rows of a downloaded workbook: (header, [dict per data row]) and the cells for type checks."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content))
    worksheet = workbook[sheet] if sheet else workbook.active
    rows = list(worksheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    return header, [dict(zip(header, row, strict=False)) for row in rows[1:]]


def inspection_row(provider_uscc, **overrides):
    from evaluations.resources import INSPECTION_HEADERS

    row = {
        INSPECTION_HEADERS["provider"]: provider_uscc,
        INSPECTION_HEADERS["kind"]: "site_visit",
        INSPECTION_HEADERS["contract"]: "",
        INSPECTION_HEADERS["conducted_on"]: "2026-05-20",
        INSPECTION_HEADERS["findings"]: "现场查看设备联网进度，与计划一致。",
        INSPECTION_HEADERS["issues_found"]: "否",
    }
    row.update({INSPECTION_HEADERS.get(name, name): value for name, value in overrides.items()})
    return row


def sheet_bytes(rows):
    """A one-sheet workbook whose header is the keys of the first row (Chinese headers as given)."""
    header = list(rows[0])
    return xlsx_bytes(rows, columns=header, headers={name: name for name in header})


def enterprise_row(n, county_code, **overrides):
    """A pilot-enterprise row under the field names of enterprises.resources.HEADERS."""
    from tangshan_portal.demo import sequential_uscc as uscc_of

    row = {
        "name": f"导入测试制造有限公司{n:05d}",
        "uscc": uscc_of(n, county_code, tag="Y"),
        "county": county_code,
        "industry": "装备制造",
        "sub_industry": "通用设备制造",
        "size": "small",
        "contact_name": "王五",
        "contact_phone": "13800000000",
        "baseline_level": "2",
    }
    row.update(overrides)
    return row


def enterprise_xlsx_bytes(rows):
    from enterprises.resources import HEADERS as ENTERPRISE_HEADERS

    return xlsx_bytes(rows, columns=list(ENTERPRISE_HEADERS), headers=ENTERPRISE_HEADERS)
