"""Projects: a user's named groups of batches (POST/GET /api/apps/pose-generator/projects)."""
from __future__ import annotations

from pydantic import Field
from sqlmodel import Session

from core.errors import ValidationFailed
from core.records import get_owned, list_owned
from core.schemas import CamelModel
from db.models import PoseGenerationProject, User


class ProjectCreate(CamelModel):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    brand_kit_id: int | None = None


def create_project(session: Session, *, user: User, data: ProjectCreate) -> PoseGenerationProject:
    from core.catalog import brand_kits

    if data.brand_kit_id is not None:
        brand_kits.get(session, user=user, kit_id=data.brand_kit_id)
    row = PoseGenerationProject(user_id=user.id, name=data.name.strip(), description=data.description,
                                brand_kit_id=data.brand_kit_id)
    if not row.name:
        raise ValidationFailed("generation.project_name_required", field="name")
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def get_project(session: Session, *, user: User, project_id: int) -> PoseGenerationProject:
    return get_owned(session, PoseGenerationProject, project_id, user_id=user.id, label="Project")


def list_projects(session: Session, *, user: User, limit: int = 50, offset: int = 0):
    return list_owned(session, PoseGenerationProject, user_id=user.id, filters={},
                      order_by=(PoseGenerationProject.created_at.desc(), PoseGenerationProject.id.desc()),
                      limit=limit, offset=offset)
